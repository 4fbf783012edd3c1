package io.sparkmm.engine.scheduler;

/**
 * A snapshot of the scheduler's counters.
 *
 * @param kvBlocksTotal blocks in the pool
 * @param kvBlocksUsed blocks held by requests (free cached blocks are evictable, so not used)
 * @param prefixQueryTokens tokens of admitted requests looked up in the prefix cache (cumulative)
 * @param prefixHitTokens of those, tokens found in the cache (cumulative)
 * @param preemptions preemptions so far (cumulative)
 */
public record SchedulerStats(int kvBlocksTotal, int kvBlocksUsed, long prefixQueryTokens,
                             long prefixHitTokens, long preemptions) {}
