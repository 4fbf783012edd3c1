package io.sparkmm.engine.runner;

import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.scheduler.ScheduledChunk;
import io.sparkmm.engine.scheduler.SchedulerOutput;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.Tensor;

import java.util.List;

/**
 * Turns one scheduler step into one forward pass: the chunks' tokens are flattened into a single
 * batch (T rows), run through the decoder with paged attention, and the logits are computed only
 * for the last row of each chunk that samples.
 */
public final class ModelRunner {

    private final DecoderModel model;
    private final KvCache cache;

    public ModelRunner(DecoderModel model, KvCache cache) {
        this.model = model;
        this.cache = cache;
    }

    /** Logits rows, one per chunk whose {@code samples()} is true, in chunk order. */
    public float[][] execute(SchedulerOutput step) {
        List<ScheduledChunk> chunks = step.chunks();
        int s = chunks.size();
        int total = 0;
        int sampling = 0;
        for (ScheduledChunk c : chunks) {
            total += c.tokenIds().length;
            sampling += c.samples() ? 1 : 0;
        }
        int[] ids = new int[total];
        int[] positions = new int[total];
        int[] slots = new int[total];
        int[] queryStart = new int[s + 1];
        int[] contextLens = new int[s];
        int[][] blockTables = new int[s][];
        int[] sampleRows = new int[sampling];
        int row = 0;
        int sampleIndex = 0;
        for (int i = 0; i < s; i++) {
            ScheduledChunk c = chunks.get(i);
            int len = c.tokenIds().length;
            queryStart[i] = row;
            System.arraycopy(c.tokenIds(), 0, ids, row, len);
            System.arraycopy(c.slotMapping(), 0, slots, row, len);
            for (int j = 0; j < len; j++) {
                positions[row + j] = c.startPosition() + j;
            }
            contextLens[i] = c.startPosition() + len;
            blockTables[i] = c.blockTable();
            row += len;
            if (c.samples()) {
                sampleRows[sampleIndex++] = row - 1;
            }
        }
        queryStart[s] = row;
        PagedBatch batch = new PagedBatch(cache.blockSize(), queryStart, contextLens, blockTables, slots);
        Backend backend = model.backend();
        try (Tensor hidden = model.embed(ids)) {
            model.forwardLayers(hidden, positions, cache, batch);
            if (sampling == 0) {
                return new float[0][];
            }
            try (Tensor logits = model.logitsOfRows(hidden, sampleRows)) {
                float[] flat = backend.download(logits);
                int vocab = logits.cols();
                float[][] out = new float[sampling][];
                for (int i = 0; i < sampling; i++) {
                    out[i] = java.util.Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
                }
                return out;
            }
        }
    }
}
