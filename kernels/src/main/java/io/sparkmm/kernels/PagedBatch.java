package io.sparkmm.kernels;

import java.util.Arrays;

/**
 * A flattened batch of S sequence segments for {@link Backend#pagedAttention}: prefills, chunks
 * of chunked prefills and decode tokens alike (one scheduling rule, as in vLLM v1).
 *
 * <ul>
 *   <li>{@code blockSize}: token positions per KV block; must equal the cache's.</li>
 *   <li>{@code queryStart} (length S+1, from 0, non-decreasing): segment s owns the query rows
 *       [queryStart[s], queryStart[s+1]) of the flattened batch; T = queryStart[S].</li>
 *   <li>{@code contextLens} (length S): how many tokens of segment s's sequence have KV once this
 *       step's new tokens are written; the segment's rows are its last positions, so row r sits
 *       at position {@code contextLens[s] - segLen + (r - queryStart[s])}.</li>
 *   <li>{@code blockTables} (length S): the block ids of sequence s in position order; position
 *       p lives in block {@code blockTables[s][p / blockSize]} at offset {@code p % blockSize}.
 *       Extra trailing blocks are allowed (pre-allocated room for later tokens).</li>
 *   <li>{@code slots} (length T): where row t's new K/V is written,
 *       {@code block * blockSize + offset}; it must agree with the block table (checked here, so
 *       an engine bug fails loudly instead of attending to stale memory).</li>
 * </ul>
 *
 * <p>Immutable: arrays are copied in and out. Kernels read through the indexed accessors
 * ({@link #contextLen(int)}, {@link #block(int, int)}, ...), which copy nothing.
 */
public record PagedBatch(int blockSize, int[] queryStart, int[] contextLens, int[][] blockTables, int[] slots) {

    public PagedBatch {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("PagedBatch: block size must be positive, got " + blockSize);
        }
        if (queryStart == null || contextLens == null || blockTables == null || slots == null) {
            throw new IllegalArgumentException("PagedBatch: queryStart, contextLens, blockTables and slots are required");
        }
        queryStart = queryStart.clone();
        contextLens = contextLens.clone();
        blockTables = blockTables.clone();
        for (int s = 0; s < blockTables.length; s++) {
            if (blockTables[s] == null) {
                throw new IllegalArgumentException("PagedBatch: block table of segment " + s + " is null");
            }
            blockTables[s] = blockTables[s].clone();
        }
        slots = slots.clone();
        validate(blockSize, queryStart, contextLens, blockTables, slots);
    }

    private static void validate(int blockSize, int[] queryStart, int[] contextLens, int[][] blockTables, int[] slots) {
        int segments = contextLens.length;
        if (queryStart.length != segments + 1) {
            throw new IllegalArgumentException("PagedBatch: queryStart has length " + queryStart.length
                    + " but " + segments + " segments need " + (segments + 1));
        }
        if (blockTables.length != segments) {
            throw new IllegalArgumentException("PagedBatch: " + blockTables.length + " block tables for "
                    + segments + " segments");
        }
        if (queryStart[0] != 0) {
            throw new IllegalArgumentException("PagedBatch: queryStart[0] must be 0, got " + queryStart[0]);
        }
        int tokens = queryStart[segments];
        if (slots.length != tokens) {
            throw new IllegalArgumentException("PagedBatch: " + slots.length + " slots for " + tokens
                    + " query rows (queryStart[" + segments + "])");
        }
        for (int s = 0; s < segments; s++) {
            int segLen = queryStart[s + 1] - queryStart[s];
            if (segLen < 0) {
                throw new IllegalArgumentException("PagedBatch: queryStart decreases at segment " + s + ": "
                        + queryStart[s] + " then " + queryStart[s + 1]);
            }
            if (segLen > contextLens[s]) {
                throw new IllegalArgumentException("PagedBatch: segment " + s + " has " + segLen
                        + " new tokens but a context of only " + contextLens[s]);
            }
            // long: a corrupt huge context must not overflow into a small block count
            long needed = ((long) contextLens[s] + blockSize - 1) / blockSize;
            if (blockTables[s].length < needed) {
                throw new IllegalArgumentException("PagedBatch: segment " + s + " has a context of "
                        + contextLens[s] + " tokens, which needs " + needed + " blocks of " + blockSize
                        + ", but its block table has " + blockTables[s].length);
            }
            for (int i = 0; i < needed; i++) {
                if (blockTables[s][i] < 0) {
                    throw new IllegalArgumentException("PagedBatch: segment " + s + " block table entry " + i
                            + " is negative: " + blockTables[s][i]);
                }
            }
            int first = contextLens[s] - segLen;
            for (int t = queryStart[s]; t < queryStart[s + 1]; t++) {
                int p = first + (t - queryStart[s]);
                long expected = (long) blockTables[s][p / blockSize] * blockSize + p % blockSize;
                if (slots[t] != expected) {
                    throw new IllegalArgumentException("PagedBatch: slot of row " + t + " (segment " + s
                            + ", position " + p + ") is " + slots[t] + " but its block table puts that position at "
                            + expected);
                }
            }
        }
        int[] sorted = slots.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                throw new IllegalArgumentException("PagedBatch: slot " + sorted[i]
                        + " is written by two rows; new tokens must go to distinct slots");
            }
        }
    }

    /** Number of segments S. */
    public int segments() {
        return contextLens.length;
    }

    /** Number of query rows T. */
    public int tokens() {
        return queryStart[contextLens.length];
    }

    public int queryStart(int segment) {
        return queryStart[segment];
    }

    public int segmentLength(int segment) {
        return queryStart[segment + 1] - queryStart[segment];
    }

    public int contextLen(int segment) {
        return contextLens[segment];
    }

    /** The i-th block id of a segment's table. */
    public int block(int segment, int i) {
        return blockTables[segment][i];
    }

    /** Blocks actually covering the segment's context (trailing spare blocks excluded). */
    public int blocksUsed(int segment) {
        return (contextLens[segment] + blockSize - 1) / blockSize;
    }

    public int slot(int row) {
        return slots[row];
    }

    /** The largest block id the batch touches, or -1 when it touches none. */
    public int maxBlock() {
        int max = -1;
        for (int s = 0; s < segments(); s++) {
            for (int i = 0; i < blocksUsed(s); i++) {
                max = Math.max(max, blockTables[s][i]);
            }
        }
        return max;
    }

    @Override
    public int[] queryStart() {
        return queryStart.clone();
    }

    @Override
    public int[] contextLens() {
        return contextLens.clone();
    }

    @Override
    public int[][] blockTables() {
        int[][] copy = blockTables.clone();
        for (int s = 0; s < copy.length; s++) {
            copy[s] = copy[s].clone();
        }
        return copy;
    }

    @Override
    public int[] slots() {
        return slots.clone();
    }

    // Records compare array components by reference; a batch is a value, so compare contents.
    @Override
    public boolean equals(Object o) {
        return o instanceof PagedBatch b && blockSize == b.blockSize && Arrays.equals(queryStart, b.queryStart)
                && Arrays.equals(contextLens, b.contextLens) && Arrays.deepEquals(blockTables, b.blockTables)
                && Arrays.equals(slots, b.slots);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * (31 * blockSize + Arrays.hashCode(queryStart)) + Arrays.hashCode(contextLens))
                + Arrays.deepHashCode(blockTables)) + Arrays.hashCode(slots);
    }

    @Override
    public String toString() {
        return "PagedBatch[blockSize=" + blockSize + ", queryStart=" + Arrays.toString(queryStart)
                + ", contextLens=" + Arrays.toString(contextLens) + ", blockTables="
                + Arrays.deepToString(blockTables) + ", slots=" + Arrays.toString(slots) + "]";
    }
}
