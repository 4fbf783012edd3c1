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
 */
public record SchedulerConfig(int maxNumBatchedTokens, int maxNumSeqs, int numBlocks, int blockSize,
                              boolean prefixCaching, int maxModelLen, int longPrefillTokenThreshold) {
  public SchedulerConfig {
    requireAtLeast("maxNumBatchedTokens", maxNumBatchedTokens, 1);
    requireAtLeast("maxNumSeqs", maxNumSeqs, 1);
    requireAtLeast("numBlocks", numBlocks, 1);
    requireAtLeast("blockSize", blockSize, 1);
    // A prompt needs at least one token and must be shorter than maxModelLen.
    requireAtLeast("maxModelLen", maxModelLen, 2);
    requireAtLeast("longPrefillTokenThreshold", longPrefillTokenThreshold, 0);
  }

  private static void requireAtLeast(String name, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(name + " must be >= " + min + ", got " + value);
    }
  }
}
