package io.sparkmm.kernels;

/**
 * A flattened batch of S sequence segments for paged attention. Segment s owns the query rows
 * {@code [queryStart[s], queryStart[s+1])}: its new tokens, which are the last
 * {@code segLen} of the {@code contextLens[s]} tokens its sequence has after this step. Its
 * positions live in the blocks {@code blockTables[s]} (position p in block
 * {@code blockTables[s][p / blockSize]} at offset {@code p % blockSize}); new token t is
 * written to {@code slots[t] = block * blockSize + offset}.
 */
public record PagedBatch(int[] queryStart, int[] contextLens, int[][] blockTables, int[] slots) {

    public PagedBatch {
        if (queryStart == null || contextLens == null || blockTables == null || slots == null) {
            throw new IllegalArgumentException("PagedBatch: no array may be null");
        }
        int s = contextLens.length;
        if (queryStart.length != s + 1 || blockTables.length != s) {
            throw new IllegalArgumentException("PagedBatch: " + s + " segments need queryStart of length " + (s + 1)
                    + " and " + s + " block tables, got " + queryStart.length + " and " + blockTables.length);
        }
        if (queryStart[0] != 0) {
            throw new IllegalArgumentException("PagedBatch: queryStart[0] must be 0, got " + queryStart[0]);
        }
        for (int i = 0; i < s; i++) {
            int len = queryStart[i + 1] - queryStart[i];
            if (len < 1) {
                throw new IllegalArgumentException("PagedBatch: segment " + i + " has " + len + " query rows");
            }
            if (len > contextLens[i]) {
                throw new IllegalArgumentException("PagedBatch: segment " + i + " has " + len
                        + " new tokens but a context of only " + contextLens[i]);
            }
        }
        if (slots.length != queryStart[s]) {
            throw new IllegalArgumentException("PagedBatch: " + queryStart[s] + " query rows need as many slots, got "
                    + slots.length);
        }
    }

    public int numSegments() {
        return contextLens.length;
    }

    public int numTokens() {
        return queryStart[queryStart.length - 1];
    }

    /** Checks that every block table covers its context and that slots and blocks fit the cache. */
    public void checkAgainst(KvCache cache) {
        int bs = cache.blockSize();
        for (int i = 0; i < contextLens.length; i++) {
            int needed = (contextLens[i] + bs - 1) / bs;
            if (blockTables[i].length < needed) {
                throw new IllegalArgumentException("PagedBatch: segment " + i + " has context " + contextLens[i]
                        + " but only " + blockTables[i].length + " blocks of " + bs);
            }
            for (int b = 0; b < needed; b++) {
                int block = blockTables[i][b];
                if (block < 0 || block >= cache.numBlocks()) {
                    throw new IllegalArgumentException("PagedBatch: segment " + i + " block " + block
                            + " outside the pool of " + cache.numBlocks());
                }
            }
        }
        long maxSlot = (long) cache.numBlocks() * bs;
        for (int slot : slots) {
            if (slot < 0 || slot >= maxSlot) {
                throw new IllegalArgumentException("PagedBatch: slot " + slot + " outside the pool of " + maxSlot + " slots");
            }
        }
    }
}
