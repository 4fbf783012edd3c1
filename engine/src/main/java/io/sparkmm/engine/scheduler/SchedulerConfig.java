package io.sparkmm.engine.scheduler;

/**
 * Static limits of one scheduler.
 *
 * @param maxNumBatchedTokens token budget of one step (all chunks together)
 * @param maxNumSeqs most requests running at once
 * @param numBlocks KV blocks in the pool
 * @param blockSize tokens per KV block
 * @param prefixCaching whether full computed blocks are cached and reused across requests
 * @param maxModelLen longest sequence (prompt + outputs); a prompt must be shorter
 * @param longPrefillTokenThreshold most tokens one request gets per step, so one long prompt
 *     cannot take the whole budget from everyone else; 0 = off
 * @param maxEncoderTokensPerStep encoder budget of one step, in embedding rows (all media items
 *     encoded in the step together); a media item with more rows is rejected at add()
 * @param encoderCacheRows capacity of the encoder output cache, in embedding rows; a media item
 *     with more rows is rejected at add()
 * @param maxPrefixWaitSteps most steps one waiting request sits out waiting for prefix blocks that
 *     another request is computing in those steps, so it then hits them rather than computing them
 *     too (see {@link Scheduler}); 0 = never wait. Only with prefixCaching.
 */
public record SchedulerConfig(int maxNumBatchedTokens, int maxNumSeqs, int numBlocks, int blockSize,
                                                            boolean prefixCaching, int maxModelLen, int longPrefillTokenThreshold,
                                                            int maxEncoderTokensPerStep, int encoderCacheRows, int maxPrefixWaitSteps) {
    /**
     * The default bound of a request's wait for in-flight prefix blocks. A request waits only while
     * the blocks' producer is scheduled, one step per chunk of the producer's prefill, so this only
     * bites on prefixes prefilled in more chunks than this (e.g. 64 x 512 tokens with
     * longPrefillTokenThreshold 512); past it, the request computes the rest itself.
     */
    public static final int DEFAULT_MAX_PREFIX_WAIT_STEPS = 64;

    public SchedulerConfig {
        requireAtLeast("maxNumBatchedTokens", maxNumBatchedTokens, 1);
        requireAtLeast("maxNumSeqs", maxNumSeqs, 1);
        requireAtLeast("numBlocks", numBlocks, 1);
        requireAtLeast("blockSize", blockSize, 1);
        // A prompt needs at least one token and must be shorter than maxModelLen.
        requireAtLeast("maxModelLen", maxModelLen, 2);
        requireAtLeast("longPrefillTokenThreshold", longPrefillTokenThreshold, 0);
        requireAtLeast("maxEncoderTokensPerStep", maxEncoderTokensPerStep, 1);
        requireAtLeast("encoderCacheRows", encoderCacheRows, 1);
        requireAtLeast("maxPrefixWaitSteps", maxPrefixWaitSteps, 0);
    }

    /** With the default wait for in-flight prefix blocks. */
    public SchedulerConfig(int maxNumBatchedTokens, int maxNumSeqs, int numBlocks, int blockSize,
                           boolean prefixCaching, int maxModelLen, int longPrefillTokenThreshold,
                           int maxEncoderTokensPerStep, int encoderCacheRows) {
        this(maxNumBatchedTokens, maxNumSeqs, numBlocks, blockSize, prefixCaching, maxModelLen,
                longPrefillTokenThreshold, maxEncoderTokensPerStep, encoderCacheRows, DEFAULT_MAX_PREFIX_WAIT_STEPS);
    }

    /**
     * Encoder budget and cache default to maxNumBatchedTokens rows (as in vLLM, where both start
     * from max_num_batched_tokens). Use {@link #withLargestMediaItem} once the model's largest item
     * is known so that such an item is never rejected.
     */
    public SchedulerConfig(int maxNumBatchedTokens, int maxNumSeqs, int numBlocks, int blockSize,
                                                  boolean prefixCaching, int maxModelLen, int longPrefillTokenThreshold) {
        this(maxNumBatchedTokens, maxNumSeqs, numBlocks, blockSize, prefixCaching, maxModelLen,
                longPrefillTokenThreshold, maxNumBatchedTokens, maxNumBatchedTokens);
    }

    /**
     * This config with the encoder budget and cache raised to at least {@code rows}, the embedding
     * rows of the largest media item the model produces: an item must fit both whole, since it is
     * encoded in one step and cached whole.
     */
    public SchedulerConfig withLargestMediaItem(int rows) {
        requireAtLeast("largest media item rows", rows, 1);
        return new SchedulerConfig(maxNumBatchedTokens, maxNumSeqs, numBlocks, blockSize, prefixCaching, maxModelLen,
                longPrefillTokenThreshold, Math.max(maxEncoderTokensPerStep, rows), Math.max(encoderCacheRows, rows),
                maxPrefixWaitSteps);
    }

    /** This config with the encoder cache holding {@code rows} embedding rows (the per-step budget unchanged). */
    public SchedulerConfig withEncoderCacheRows(int rows) {
        requireAtLeast("encoderCacheRows", rows, 1);
        return new SchedulerConfig(maxNumBatchedTokens, maxNumSeqs, numBlocks, blockSize, prefixCaching, maxModelLen,
                longPrefillTokenThreshold, maxEncoderTokensPerStep, rows, maxPrefixWaitSteps);
    }

    /** This config with another bound on waiting for in-flight prefix blocks (0 = never wait). */
    public SchedulerConfig withMaxPrefixWaitSteps(int steps) {
        return new SchedulerConfig(maxNumBatchedTokens, maxNumSeqs, numBlocks, blockSize, prefixCaching, maxModelLen,
                longPrefillTokenThreshold, maxEncoderTokensPerStep, encoderCacheRows, steps);
    }

    private static void requireAtLeast(String name, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + ", got " + value);
        }
    }
}
