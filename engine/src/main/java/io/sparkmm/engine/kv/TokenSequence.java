package io.sparkmm.engine.kv;

import java.util.List;

/**
 * What the block manager needs to know about a request to hash its blocks. Kept as an interface
 * so that {@code kv} does not depend on the scheduler's request type.
 */
public interface TokenSequence {
    /** Number of known tokens (prompt plus generated). */
    int numTokens();

    int tokenAt(int position);

    /** Optional salt that isolates this request's cache entries; null for none. */
    String cacheSalt();

    /**
     * The extra keys of every keyed range overlapping positions [start, end), each with its
     * range start relative to {@code start}, in a canonical order (so equal requests give equal
     * lists).
     */
    List<BlockExtraKey> extraKeysIn(int start, int end);
}
