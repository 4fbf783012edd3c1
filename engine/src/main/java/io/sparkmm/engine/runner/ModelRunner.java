package io.sparkmm.engine.runner;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.scheduler.MediaItem;
import io.sparkmm.engine.scheduler.ScheduledChunk;
import io.sparkmm.engine.scheduler.SchedulerOutput;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.Tensor;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Turns one scheduler step into one forward pass: media items the scheduler picked are encoded
 * (whole) into the encoder-output cache; the chunks' tokens are flattened into a single batch
 * (T rows) and embedded, with placeholder rows replaced by their items' encoder outputs; the
 * batch runs through the decoder with paged attention; logits are computed only for the last row
 * of each chunk that samples. Only the engine loop thread calls it.
 */
public final class ModelRunner {

    private final DecoderModel model;
    private final KvCache cache;
    private final MediaEncoder encoder;
    private final Map<String, Tensor> encoderOutputs = new HashMap<>();
    private long encoderRuns;

    /** @param encoder null for a text-only model */
    public ModelRunner(DecoderModel model, KvCache cache, MediaEncoder encoder) {
        this.model = model;
        this.cache = cache;
        this.encoder = encoder;
    }

    /** Items run through the encoder so far. */
    public long encoderRuns() {
        return encoderRuns;
    }

    /**
     * Logits rows, one per chunk whose {@code samples()} is true, in chunk order.
     *
     * @param media finds a request's processed item by (request id, item index)
     */
    public float[][] execute(SchedulerOutput step, BiFunction<String, Integer, MediaInput> media) {
        for (String hash : step.freedEncoderHashes()) {
            Tensor t = encoderOutputs.remove(hash);
            if (t != null) {
                t.close();
            }
        }
        for (ScheduledChunk c : step.chunks()) {
            for (MediaItem item : c.encodeItems()) {
                encode(media.apply(c.requestId(), item.index()), item);
            }
        }
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
            mergeMedia(chunks, queryStart, hidden, backend);
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

    private void encode(MediaInput input, MediaItem item) {
        if (encoder == null) {
            throw new IllegalStateException("this model has no media encoder, but item " + item.hash() + " needs one");
        }
        Tensor out = encoder.encode(input);
        if (out.rows() != item.numEmbeddings()) {
            out.close();
            throw new IllegalStateException("the encoder gave " + out.rows() + " rows for an item with "
                    + item.numEmbeddings() + " placeholder positions");
        }
        Tensor old = encoderOutputs.put(item.hash(), out);
        if (old != null) {
            old.close();
        }
        encoderRuns++;
    }

    /** Placeholder rows take their item's encoder output rows: position p gets row p - offset. */
    private void mergeMedia(List<ScheduledChunk> chunks, int[] queryStart, Tensor hidden, Backend backend) {
        for (int i = 0; i < chunks.size(); i++) {
            ScheduledChunk c = chunks.get(i);
            int start = c.startPosition();
            int end = start + c.tokenIds().length;
            for (MediaItem item : c.mediaInChunk()) {
                int from = Math.max(start, item.offset());
                int to = Math.min(end, item.offset() + item.length());
                if (from >= to) {
                    continue;
                }
                Tensor rows = encoderOutputs.get(item.hash());
                if (rows == null) {
                    throw new IllegalStateException("no encoder output cached for item " + item.hash()
                            + " of request " + c.requestId());
                }
                backend.copyRows(rows, from - item.offset(), hidden, queryStart[i] + (from - start), to - from);
            }
        }
    }

    /** Drops every cached encoder output (engine shutdown). */
    public void clear() {
        encoderOutputs.values().forEach(Tensor::close);
        encoderOutputs.clear();
    }
}
