package io.sparkmm.engine;

/**
 * A snapshot of the engine's counters since start.
 *
 * @param steps forward passes run
 * @param scheduledTokens tokens computed (prefill chunks and decodes)
 * @param generatedTokens tokens sampled
 * @param promptTokens prompt tokens of admitted requests
 * @param prefixQueryTokens prompt tokens looked up in the prefix cache
 * @param prefixHitTokens of those, tokens whose KV was reused
 * @param prefixWaits steps waiting requests sat out for prefix blocks another request was computing,
 *     summed over requests (see {@link EngineConfig#prefixWait()})
 * @param preemptions requests preempted (recomputed later)
 * @param encoderRuns media items run through their encoder
 * @param encoderCacheHits media items whose encoder output was reused from the encoder cache
 * @param finished requests finished, failed or cancelled
 * @param failed requests that ended with an error
 * @param kvBlocksUsed blocks in use now
 * @param kvBlocksPeak the most blocks in use at once
 * @param kvBlocksTotal blocks in the pool
 * @param kvCacheBytes bytes of the pool
 * @param maxRunningSeqs the largest number of sequences in one step
 * @param elapsedNanos time since the engine started
 */
public record EngineMetrics(long steps, long scheduledTokens, long generatedTokens, long promptTokens,
                            long prefixQueryTokens, long prefixHitTokens, long prefixWaits, long preemptions, long encoderRuns,
                            long encoderCacheHits, long finished, long failed,
                            int kvBlocksUsed, int kvBlocksPeak, int kvBlocksTotal, long kvCacheBytes, int maxRunningSeqs, long elapsedNanos) {

    public double prefixHitRate() {
        return prefixQueryTokens == 0 ? 0 : (double) prefixHitTokens / prefixQueryTokens;
    }

    public double generatedTokensPerSecond() {
        return elapsedNanos == 0 ? 0 : generatedTokens / (elapsedNanos / 1e9);
    }

    public double meanTokensPerStep() {
        return steps == 0 ? 0 : (double) scheduledTokens / steps;
    }

    public double kvUsage() {
        return kvBlocksTotal == 0 ? 0 : (double) kvBlocksUsed / kvBlocksTotal;
    }
}
