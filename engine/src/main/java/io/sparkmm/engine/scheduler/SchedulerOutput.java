package io.sparkmm.engine.scheduler;

import java.util.List;

/**
 * What one step computes: one chunk per scheduled request (running ones first, then newly
 * admitted ones), the requests preempted while building it, and the total tokens.
 *
 * @param freedEncoderHashes encoder outputs evicted from the encoder cache while planning this
 *     step: the engine drops those tensors BEFORE running this step's encodes (a hash evicted and
 *     then needed again in the same step appears here and in a chunk's encodeItems)
 */
public record SchedulerOutput(List<ScheduledChunk> chunks, List<String> preemptedRequestIds, int numBatchedTokens,
                                                            List<String> freedEncoderHashes) {
    /** An output that freed no encoder outputs. */
    public SchedulerOutput(List<ScheduledChunk> chunks, List<String> preemptedRequestIds, int numBatchedTokens) {
        this(chunks, preemptedRequestIds, numBatchedTokens, List.of());
    }

    public SchedulerOutput {
        chunks = List.copyOf(chunks);
        preemptedRequestIds = List.copyOf(preemptedRequestIds);
        freedEncoderHashes = List.copyOf(freedEncoderHashes);
    }

    /** Rows the encoder computes in this step, over all chunks. */
    public int numEncoderRows() {
        int rows = 0;
        for (ScheduledChunk c : chunks) {
            for (MediaItem m : c.encodeItems()) {
                rows += m.numEmbeddings();
            }
        }
        return rows;
    }

    public boolean isEmpty() {
        return chunks.isEmpty();
    }
}
