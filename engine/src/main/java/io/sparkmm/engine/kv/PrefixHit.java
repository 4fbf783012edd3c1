package io.sparkmm.engine.kv;

import java.util.Arrays;
import java.util.List;

/**
 * Result of a prefix-cache lookup: the cached blocks that a request may reuse, in order, and
 * their (verified) keys. Valid only until the pool changes: look up and allocate in one go.
 */
public record PrefixHit(int[] blocks, List<BlockKey> keys, int blockSize) {
    public PrefixHit {
        blocks = blocks.clone();
        keys = List.copyOf(keys);
        if (blocks.length != keys.size()) {
            throw new IllegalArgumentException("blocks and keys differ in length");
        }
    }

    public static PrefixHit none(int blockSize) {
        return new PrefixHit(new int[0], List.of(), blockSize);
    }

    @Override
    public int[] blocks() {
        return blocks.clone();
    }

    public int numBlocks() {
        return blocks.length;
    }

    public int numTokens() {
        return blocks.length * blockSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PrefixHit h && Arrays.equals(blocks, h.blocks) && keys.equals(h.keys)
                && blockSize == h.blockSize;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(blocks) * 31 + keys.hashCode();
    }

    @Override
    public String toString() {
        return "PrefixHit" + Arrays.toString(blocks);
    }
}
