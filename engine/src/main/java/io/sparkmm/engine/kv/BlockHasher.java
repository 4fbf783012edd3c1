package io.sparkmm.engine.kv;

import java.util.List;

/**
 * Hash of one full block, chained on its parent's hash. An interface so tests can inject a
 * deliberately weak hasher and prove that hits are verified rather than trusted.
 * Implementations need not be thread-safe: one scheduler thread owns one hasher.
 */
@FunctionalInterface
public interface BlockHasher {
    /**
     * @param parent hash of the previous block of the same request, null for the first block
     * @param tokens the block's token ids (exactly blockSize of them)
     * @param extras extra keys of the block, see {@link BlockExtraKey}
     * @param salt cache salt, non-null only for the first block of a salted request
     */
    BlockHash hash(BlockHash parent, int[] tokens, List<BlockExtraKey> extras, String salt);

    /** The default: SHA-256 over a length-prefixed encoding, truncated to 128 bits. */
    static BlockHasher sha256() {
        return new Sha256BlockHasher();
    }
}
