package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.checkpoint.RopeScaling;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.RopeFrequencies;
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

    /** Loads a causal LM checkpoint of a supported architecture onto the backend. */
    public static DecoderModel load(Checkpoint ckpt, Backend backend) {
        ModelConfig c = ckpt.config();
        if (!ARCHITECTURES.contains(c.architecture())) {
            throw new CheckpointException("architecture '" + c.architecture() + "' in "
                    + ckpt.directory().resolve("config.json") + " is not a decoder-only model we run; supported: "
                    + ARCHITECTURES);
        }
        return new DecoderModel(c, backend, DecoderWeights.load(ckpt, c, backend, "model.", "lm_head.weight"));
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
     * (before the final norm). Attention is causal over exactly these n rows.
     */
    public void forwardLayers(Tensor hidden, int[] positions) {
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
            for (DecoderWeights.Layer layer : weights.layers()) {
                backend.rmsNorm(hidden, layer.inputNorm(), config.rmsNormEps(), x);
                backend.matmul(x, layer.q(), layer.qBias(), q);
                backend.matmul(x, layer.k(), layer.kBias(), k);
                backend.matmul(x, layer.v(), layer.vBias(), v);
                backend.rope(q, positions, heads, hd, invFreq, 1f);
                backend.rope(k, positions, kvHeads, hd, invFreq, 1f);
                backend.attention(q, k, v, attn, heads, kvHeads, hd, attentionScale, true);
                backend.matmul(attn, layer.o(), layer.oBias(), proj);
                backend.add(hidden, proj, hidden);

                backend.rmsNorm(hidden, layer.postAttentionNorm(), config.rmsNormEps(), x);
                backend.matmul(x, layer.gate(), layer.gateBias(), gate);
                backend.matmul(x, layer.up(), layer.upBias(), up);
                backend.siluMul(gate, up, gate);
                backend.matmul(gate, layer.down(), layer.downBias(), proj);
                backend.add(hidden, proj, hidden);
            }
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
