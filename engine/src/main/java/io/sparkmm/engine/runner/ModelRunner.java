package io.sparkmm.engine.runner;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.MediaRows;
import io.sparkmm.engine.scheduler.MediaItem;
import io.sparkmm.engine.scheduler.ScheduledChunk;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.prompt.PlaceholderRange;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one scheduler step into encoder runs and one forward pass, for any family: media items
 * the scheduler picked are encoded (whole) into the encoder-output cache; the chunks' tokens are
 * flattened into a single batch (T rows) and embedded, with each item's is-embed positions taking
 * its encoder rows; positions come from each request's {@code RequestPositions} (1-D or
 * sectioned); the batch runs through the decoder with paged attention; logits are computed only
 * for the last row of each chunk that samples. Encoding and the forward pass are separate calls
 * so the engine can fail one item's requests, or re-run a subset of chunks, without the others.
 * Only the engine loop thread calls it.
 */
public final class ModelRunner {

    private final FamilyModel family;
    private final DecoderModel model;
    private final KvCache cache;
    private final int[] ropeSections;
    private final Map<String, Tensor> encoderOutputs = new HashMap<>();
    private long encoderRuns;

    public ModelRunner(FamilyModel family, KvCache cache) {
        this.family = family;
        this.model = family.languageModel();
        this.cache = cache;
        this.ropeSections = family.ropeSections();
    }

    /** Items run through the encoder so far. */
    public long encoderRuns() {
        return encoderRuns;
    }

    /** Drops cached encoder outputs the scheduler no longer tracks (before this step's encodes). */
    public void free(Collection<String> hashes) {
        for (String hash : hashes) {
            Tensor t = encoderOutputs.remove(hash);
            if (t != null) {
                t.close();
            }
        }
    }

    /**
     * Encodes the step's new items, each on its own: a failing item does not stop the others.
     *
     * @return failed item hash -> why, empty when every item encoded
     */
    public Map<String, String> encode(List<ScheduledChunk> chunks, StepInputs inputs) {
        Map<String, String> failed = new LinkedHashMap<>();
        for (ScheduledChunk c : chunks) {
            for (MediaItem item : c.encodeItems()) {
                if (failed.containsKey(item.hash())) {
                    continue;
                }
                try {
                    encode(inputs.media(c.requestId(), item.index()), item);
                } catch (RuntimeException e) {
                    failed.put(item.hash(), e.getMessage() != null ? e.getMessage() : e.toString());
                }
            }
        }
        return failed;
    }

    /**
     * One forward pass over {@code chunks}: logits rows, one per chunk whose {@code samples()} is
     * true, in chunk order. Every op is per row, so a chunk's logits do not depend on which other
     * chunks share the pass (the engine's failure isolation re-runs subsets and relies on it).
     */
    public float[][] forward(List<ScheduledChunk> chunks, StepInputs inputs) {
        int s = chunks.size();
        int total = 0;
        int sampling = 0;
        for (ScheduledChunk c : chunks) {
            total += c.numTokens();
            sampling += c.samples() ? 1 : 0;
        }
        int sections = ropeSections == null ? 1 : ropeSections.length;
        int[] ids = new int[total];
        int[][] positions = new int[sections][total];
        int[] slots = new int[total];
        int[] queryStart = new int[s + 1];
        int[] contextLens = new int[s];
        int[][] blockTables = new int[s][];
        int[] sampleRows = new int[sampling];
        int row = 0;
        int sampleIndex = 0;
        for (int i = 0; i < s; i++) {
            ScheduledChunk c = chunks.get(i);
            int len = c.numTokens();
            queryStart[i] = row;
            int[] chunkIds = c.tokenIds();
            if (!c.mediaInChunk().isEmpty()) {
                chunkIds = MediaRows.lookupIds(chunkIds, c.startPosition(), ranges(c, inputs), model.config().vocabSize());
            }
            System.arraycopy(chunkIds, 0, ids, row, len);
            System.arraycopy(c.slotMapping(), 0, slots, row, len);
            inputs.positions(c.requestId()).fill(c.startPosition(), len, positions, row);
            contextLens[i] = c.startPosition() + len;
            blockTables[i] = c.blockTable();
            row += len;
            if (c.samples()) {
                sampleRows[sampleIndex++] = row - 1;
            }
        }
        queryStart[s] = row;
        PagedBatch batch = new PagedBatch(cache.blockSize(), queryStart, contextLens, blockTables, slots);
        RopePositions rope = ropeSections == null ? RopePositions.linear(positions[0])
                : RopePositions.sectioned(positions, ropeSections);
        Backend backend = model.backend();
        try (Tensor hidden = model.embed(ids)) {
            mergeMedia(chunks, queryStart, hidden, backend, inputs);
            model.forwardLayers(hidden, rope, cache, batch);
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

    private static List<PlaceholderRange> ranges(ScheduledChunk c, StepInputs inputs) {
        List<PlaceholderRange> out = new ArrayList<>(c.mediaInChunk().size());
        for (MediaItem item : c.mediaInChunk()) {
            out.add(inputs.media(c.requestId(), item.index()).placeholder());
        }
        return out;
    }

    private void encode(MediaInput input, MediaItem item) {
        Tensor out = family.encode(input);
        if (out.rows() != item.numEmbeddings()) {
            out.close();
            throw new IllegalStateException("the encoder gave " + out.rows() + " rows for " + input.modality() + " "
                    + item.hash() + ", whose placeholder takes " + item.numEmbeddings());
        }
        Tensor old = encoderOutputs.put(item.hash(), out);
        if (old != null) {
            old.close();
        }
        encoderRuns++;
    }

    /** Each item's is-embed positions inside a chunk take their encoder rows. */
    private void mergeMedia(List<ScheduledChunk> chunks, int[] queryStart, Tensor hidden, Backend backend,
                            StepInputs inputs) {
        for (int i = 0; i < chunks.size(); i++) {
            ScheduledChunk c = chunks.get(i);
            int start = c.startPosition();
            int end = start + c.numTokens();
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
                PlaceholderRange range = inputs.media(c.requestId(), item.index()).placeholder();
                MediaRows.merge(backend, rows, range, from, to, hidden, queryStart[i] + (from - start));
            }
        }
    }

    /** Drops every cached encoder output (engine shutdown). */
    public void clear() {
        encoderOutputs.values().forEach(Tensor::close);
        encoderOutputs.clear();
    }
}
