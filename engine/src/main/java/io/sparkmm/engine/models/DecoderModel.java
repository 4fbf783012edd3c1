package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.checkpoint.RopeScaling;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.RopeFrequencies;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;

import java.util.Set;

/**
 * A Llama-style decoder-only language model (Llama, Qwen2, Mistral), written once against
 * {@link Backend}. This class holds the math of one forward pass over one sequence with
 * contiguous attention; callers decide what to recompute.
 */
public final class DecoderModel implements AutoCloseable {

    public static final Set<String> ARCHITECTURES = Set.of("LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM");

    private final ModelConfig config;
    private final Backend backend;
    private final DecoderWeights weights;
    private final float[] invFreq;
    private final float attentionScale;

    public DecoderModel(ModelConfig config, Backend backend, DecoderWeights weights) {
        this.config = config;
        this.backend = backend;
        this.weights = weights;
        this.invFreq = inverseFrequencies(config);
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
    }

    public ModelConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** hidden[n, h] = embed_tokens[ids]. */
    public Tensor embed(int[] ids) {
        Tensor out = backend.zeros(ids.length, config.hiddenSize());
        backend.embedding(weights.embedTokens(), ids, out);
        return out;
    }

    /**
     * Runs every decoder layer over one whole sequence, in place: hidden[n, h] holds the input
     * embeddings of the tokens at {@code positions} and, on return, the last layer's output
     * (before the final norm). Attention is causal over exactly these n rows, with no cache.
     */
    public void forwardLayers(Tensor hidden, int[] positions) {
        forwardLayers(hidden, RopePositions.linear(positions));
    }

    /** As {@link #forwardLayers(Tensor, int[])} with sectioned (M-RoPE) or linear positions. */
    public void forwardLayers(Tensor hidden, RopePositions positions) {
        runLayers(hidden, positions, (layer, q, k, v, out) -> backend.attention(q, k, v, out,
                config.numHeads(), config.numKvHeads(), config.headDim(), attentionScale, true));
    }

    /**
     * Runs every decoder layer over a flattened batch of sequence chunks, in place: hidden[T, h]
     * holds the embeddings of the batch's new tokens, {@code positions[T]} their positions in
     * their own sequences. Each layer writes the new tokens' K/V into the paged cache and
     * attends through the block tables of {@code batch}. Every op is per row, so a token's
     * result does not depend on what else is in the batch.
     */
    public void forwardLayers(Tensor hidden, RopePositions positions, KvCache cache, PagedBatch batch) {
        runLayers(hidden, positions, (layer, q, k, v, out) -> backend.pagedAttention(q, k, v, cache, layer, batch,
                out, config.numHeads(), config.numKvHeads(), config.headDim(), attentionScale));
    }

    /** The attention of one layer: q[n, hq*hd], k/v[n, hkv*hd] (rope applied) to out[n, hq*hd]. */
    private interface AttentionStep {
        void apply(int layer, Tensor q, Tensor k, Tensor v, Tensor out);
    }

    private void runLayers(Tensor hidden, RopePositions positions, AttentionStep attention) {
        int n = hidden.rows();
        int h = config.hiddenSize();
        int hd = config.headDim();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int f = config.intermediateSize();
        try (Tensor x = backend.zeros(n, h);
             Tensor q = backend.zeros(n, heads * hd);
             Tensor k = backend.zeros(n, kvHeads * hd);
             Tensor v = backend.zeros(n, kvHeads * hd);
             Tensor attn = backend.zeros(n, heads * hd);
             Tensor proj = backend.zeros(n, h);
             Tensor gate = backend.zeros(n, f);
             Tensor up = backend.zeros(n, f)) {
            for (int i = 0; i < weights.layers().size(); i++) {
                DecoderWeights.Layer layer = weights.layers().get(i);
                backend.rmsNorm(hidden, layer.inputNorm(), config.rmsNormEps(), x);
                backend.matmuls(x, new Tensor[] {layer.q(), layer.k(), layer.v()},
                        new Tensor[] {layer.qBias(), layer.kBias(), layer.vBias()}, new Tensor[] {q, k, v});
                backend.rope(q, positions, heads, hd, invFreq, 1f);
                backend.rope(k, positions, kvHeads, hd, invFreq, 1f);
                attention.apply(i, q, k, v, attn);
                backend.matmul(attn, layer.o(), layer.oBias(), proj);
                backend.add(hidden, proj, hidden);

                backend.rmsNorm(hidden, layer.postAttentionNorm(), config.rmsNormEps(), x);
                backend.matmuls(x, new Tensor[] {layer.gate(), layer.up()},
                        new Tensor[] {layer.gateBias(), layer.upBias()}, new Tensor[] {gate, up});
                backend.siluMul(gate, up, gate);
                backend.matmul(gate, layer.down(), layer.downBias(), proj);
                backend.add(hidden, proj, hidden);
            }
        }
    }

    /** A paged KV cache shaped for this model: its layers, KV heads and head dim. */
    public KvCache allocateKvCache(int numBlocks, int blockSize, DType dtype) {
        return backend.allocateKvCache(config.numLayers(), numBlocks, blockSize, config.numKvHeads(), config.headDim(), dtype);
    }

    public long kvBytesPerBlock(int blockSize, DType dtype) {
        return KvCache.bytesPerBlock(config.numLayers(), blockSize, config.numKvHeads(), config.headDim(), dtype);
    }

    /** logits[rows.length, V] of the given rows of hidden, in that order. */
    public Tensor logitsOfRows(Tensor hidden, int[] rows) {
        try (Tensor picked = backend.zeros(rows.length, config.hiddenSize())) {
            for (int i = 0; i < rows.length; i++) {
                backend.copyRows(hidden, rows[i], picked, i, 1);
            }
            return logits(picked, 0, rows.length);
        }
    }

    /** logits[rows, V] of the given rows of hidden (after the final norm and lm_head). */
    public Tensor logits(Tensor hidden, int firstRow, int count) {
        int h = config.hiddenSize();
        try (Tensor rows = backend.zeros(count, h)) {
            backend.copyRows(hidden, firstRow, rows, 0, count);
            backend.rmsNorm(rows, weights.finalNorm(), config.rmsNormEps(), rows);
            Tensor out = backend.zeros(count, config.vocabSize());
            backend.matmul(rows, weights.lmHead(), null, out);
            return out;
        }
    }

    /** Convenience: the logits of one row, on the heap. */
    public float[] logitsOfRow(Tensor hidden, int row) {
        try (Tensor l = logits(hidden, row, 1)) {
            return backend.download(l);
        }
    }

    static float[] inverseFrequencies(ModelConfig c) {
        int dim = c.headDim();
        RopeScaling s = c.ropeScaling();
        if (s == null || s.type().equals("default")) {
            return RopeFrequencies.standard(dim, c.ropeTheta());
        }
        return switch (s.type()) {
            case "linear" -> RopeFrequencies.linear(dim, c.ropeTheta(), s.factor());
            case "llama3" -> RopeFrequencies.llama3(dim, c.ropeTheta(), s.factor(), s.lowFreqFactor(),
                    s.highFreqFactor(), s.originalMaxPositionEmbeddings());
            default -> throw new CheckpointException("unsupported rope_scaling type '" + s.type() + "'");
        };
    }

    @Override
    public void close() {
        weights.close();
    }
}
