package io.sparkmm.engine.scheduler;

/**
 * A snapshot of the scheduler's counters.
 *
 * @param kvBlocksTotal blocks in the pool
 * @param kvBlocksUsed blocks held by requests (free cached blocks are evictable, so not used)
 * @param prefixQueryTokens tokens of admitted requests looked up in the prefix cache (cumulative)
 * @param prefixHitTokens of those, tokens found in the cache (cumulative)
 * @param preemptions preemptions so far (cumulative)
 * @param encoderCacheHits media items whose encoder output was already cached when a request
 *     needed it (cumulative)
 * @param encoderCacheMisses media items scheduled for encoding (cumulative)
 * @param encoderCacheEvictions unreferenced encoder outputs evicted to make room (cumulative)
 * @param encoderRowsScheduled embedding rows scheduled for encoding (cumulative)
 * @param encoderCacheRowsUsed rows of the encoder outputs cached now, referenced or not
 * @param encoderCacheRowsTotal encoder cache capacity in rows
 * @param prefixWaits steps that waiting requests sat out to hit a prefix block another request was
 *     computing in that step, summed over requests (cumulative)
 */
public record SchedulerStats(int kvBlocksTotal, int kvBlocksUsed, long prefixQueryTokens,
                             long prefixHitTokens, long preemptions, long encoderCacheHits,
                             long encoderCacheMisses, long encoderCacheEvictions, long encoderRowsScheduled,
                             int encoderCacheRowsUsed, int encoderCacheRowsTotal, long prefixWaits) {}
