package io.sparkmm.engine.kv;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The full identity of one cached block: its hash plus everything the hash was computed from,
 * and a link to the parent block's key. Equality compares the whole chain (contents, not just
 * hashes), so a hit verified with {@link #equals} can never hand a request KV that was computed
 * for a different prefix, even if hashes collide anywhere along the chain.
 *
 * <p>Comparing chains is cheap in practice: when a request hits a cached block, the block
 * manager continues the chain from the cached key object itself, so the parent comparison of
 * the next block ends at the first reference-equal pair.
 */
public final class BlockKey {
    private final BlockKey parent;
    private final BlockHash hash;
    private final int[] tokens;
    private final List<BlockExtraKey> extras;
    private final String salt;

    private BlockKey(BlockKey parent, BlockHash hash, int[] tokens, List<BlockExtraKey> extras, String salt) {
        this.parent = parent;
        this.hash = Objects.requireNonNull(hash, "hasher returned null");
        this.tokens = tokens;
        this.extras = extras;
        this.salt = salt;
    }

    /** Builds the key of a block whose parent key is {@code parent} (null for the first block). */
    public static BlockKey of(BlockHasher hasher, BlockKey parent, int[] tokens, List<BlockExtraKey> extras, String salt) {
        int[] ownTokens = tokens.clone();
        List<BlockExtraKey> ownExtras = List.copyOf(extras);
        BlockHash h = hasher.hash(parent == null ? null : parent.hash, ownTokens, ownExtras, salt);
        return new BlockKey(parent, h, ownTokens, ownExtras, salt);
    }

    public BlockHash hash() {
        return hash;
    }

    public BlockKey parent() {
        return parent;
    }

    public int[] tokens() {
        return tokens.clone();
    }

    public List<BlockExtraKey> extras() {
        return extras;
    }

    public String salt() {
        return salt;
    }

    private boolean sameBlock(BlockKey o) {
        return hash.equals(o.hash)
                && Arrays.equals(tokens, o.tokens)
                && extras.equals(o.extras)
                && Objects.equals(salt, o.salt);
    }

    /** Whole-chain equality; iterative so long prompts cannot overflow the stack. */
    @Override
    public boolean equals(Object other) {
        if (!(other instanceof BlockKey)) {
            return false;
        }
        BlockKey a = this;
        BlockKey b = (BlockKey) other;
        while (a != b) {
            if (a == null || b == null || !a.sameBlock(b)) {
                return false;
            }
            a = a.parent;
            b = b.parent;
        }
        return true;
    }

    @Override
    public int hashCode() {
        return hash.hashCode();
    }

    @Override
    public String toString() {
        return "BlockKey[" + hash + ", " + tokens.length + " tokens, extras=" + extras
                + (salt == null ? "" : ", salted") + "]";
    }
}
