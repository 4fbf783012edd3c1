package io.sparkmm.engine.scheduler;

import java.util.List;

/**
 * What one step computes: one chunk per scheduled request (running ones first, then newly
 * admitted ones), the requests preempted while building it, and the total tokens.
 */
public record SchedulerOutput(List<ScheduledChunk> chunks, List<String> preemptedRequestIds, int numBatchedTokens) {
  public SchedulerOutput {
    chunks = List.copyOf(chunks);
    preemptedRequestIds = List.copyOf(preemptedRequestIds);
  }

  public boolean isEmpty() {
    return chunks.isEmpty();
  }
}
