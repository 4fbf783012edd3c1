package io.sparkmm.engine.scheduler;

import java.util.Objects;

/**
 * One range of prompt positions [start, end) whose identity is not in the token ids alone (a
 * media item); its key enters the hash of every block it overlaps, with the range's offset
 * relative to the block, as vLLM does with mm hashes.
 */
public record ExtraKeyRange(int start, int end, String key) {
  public ExtraKeyRange {
    Objects.requireNonNull(key, "key");
    if (start < 0 || end <= start) {
      throw new IllegalArgumentException("extra key range [" + start + ", " + end + ") is empty or negative");
    }
  }
}
