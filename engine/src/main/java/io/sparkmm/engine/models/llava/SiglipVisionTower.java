package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.models.EncoderLayer;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The SigLIP vision encoder (transformers' SiglipVisionModel without its pooling head) on a
 * {@link Backend}, as LLaVA-OneVision uses it: hidden states of a chosen layer
 * ({@code vision_feature_layer}, -1 being the last layer's output before {@code post_layernorm}),
 * or the post-normed {@code last_hidden_state}.
 *
 * <p>Shapes, with P patches, d hidden size, C channels, p patch size, S image size:
 * pixels float[C*S*S] (CHW) -&gt; patches [P, C*p*p] -&gt; conv as matmul with bias + position_embedding
 * = hidden_states[0] [P, d] -&gt; layer i -&gt; hidden_states[i + 1] -&gt; post_layernorm = last_hidden_state.
 */
public final class SiglipVisionTower implements AutoCloseable {

    private final SiglipVisionConfig config;
    private final Backend backend;
    private final Tensor patchWeight;       // [d, C*p*p]: the conv kernel, each row flattened (c, ky, kx)
    private final Tensor patchBias;         // [d]
    private final Tensor positionEmbedding; // [P, d]
    private final List<EncoderLayer> layers;
    private final Tensor postNormW;         // null when the checkpoint has no post_layernorm
    private final Tensor postNormB;

    private SiglipVisionTower(SiglipVisionConfig config, Backend backend, Tensor patchWeight, Tensor patchBias,
                              Tensor positionEmbedding, List<EncoderLayer> layers, Tensor postNormW,
                              Tensor postNormB) {
        this.config = config;
        this.backend = backend;
        this.patchWeight = patchWeight;
        this.patchBias = patchBias;
        this.positionEmbedding = positionEmbedding;
        this.layers = layers;
        this.postNormW = postNormW;
        this.postNormB = postNormB;
    }

    /**
     * Loads the tower under {@code prefix}, the module path of the SigLIP transformer ("" for a
     * SiglipVisionModel saved by transformers 5, "vision_model." by earlier ones, "vision_tower.vision_model."
     * inside a LLaVA checkpoint), checking every shape against the config. {@code post_layernorm} is
     * optional: LLaVA-OneVision's features come from before it.
     */
    public static SiglipVisionTower load(Checkpoint ckpt, SiglipVisionConfig c, Backend backend, String prefix) {
        int d = c.hiddenSize();
        int patchIn = c.numChannels() * c.patchSize() * c.patchSize();
        WeightLoader w = new WeightLoader(ckpt, backend);
        try {
            // A conv with stride = kernel size is a matmul over flattened patches; the weight's bytes
            // [d, C, p, p] are already [d, C*p*p] row-major, so only the shape changes.
            Tensor patch = w.get(prefix + "embeddings.patch_embedding.weight",
                    new int[] {d, c.numChannels(), c.patchSize(), c.patchSize()}, d, patchIn);
            Tensor bias = w.vec(prefix + "embeddings.patch_embedding.bias", d);
            Tensor pos = w.mat(prefix + "embeddings.position_embedding.weight", c.numPatches(), d);
            List<EncoderLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                layers.add(EncoderLayer.loadVit(w, prefix + "encoder.layers." + i + ".", d, c.intermediateSize()));
            }
            Tensor postW = null;
            Tensor postB = null;
            if (ckpt.has(prefix + "post_layernorm.weight")) {
                postW = w.vec(prefix + "post_layernorm.weight", d);
                postB = w.vec(prefix + "post_layernorm.bias", d);
            }
            return new SiglipVisionTower(c, backend, patch, bias, pos, List.copyOf(layers), postW, postB);
        } catch (RuntimeException e) {
            w.closeAll();
            throw e;
        }
    }

    public SiglipVisionConfig config() {
        return config;
    }

    /**
     * hidden_states[layer] of one image, [P, d]. Like Python indexing, a negative layer counts from the
     * end: -1 is the last layer's output (before post_layernorm), -(numLayers + 1) the embeddings.
     * Layers past the selected one are not run.
     *
     * @param pixelValues one image, float[C*S*S] in CHW order (one patch of the image processor)
     */
    public Tensor hiddenState(float[] pixelValues, int layer) {
        int states = layers.size() + 1;
        if (layer < -states || layer >= states) {
            throw new IllegalArgumentException("feature layer " + layer + " outside [" + -states + ", " + (states - 1)
                    + "] for " + layers.size() + " layers");
        }
        int index = layer < 0 ? layer + states : layer;
        Tensor hidden = embeddings(pixelValues);
        try {
            for (int i = 0; i < index; i++) {
                layers.get(i).run(backend, hidden, config.numHeads(), config.layerNormEps(), config.activation());
            }
            return hidden;
        } catch (RuntimeException e) {
            hidden.close();
            throw e;
        }
    }

    /** last_hidden_state: post_layernorm over the last layer's output, [P, d]. */
    public Tensor lastHiddenState(float[] pixelValues) {
        if (postNormW == null) {
            throw new IllegalStateException("this checkpoint has no post_layernorm weights");
        }
        Tensor hidden = hiddenState(pixelValues, -1);
        backend.layerNorm(hidden, postNormW, postNormB, config.layerNormEps(), hidden);
        return hidden;
    }

    /** hidden_states[0]: patches @ W^T + b + position_embedding, [P, d]. */
    private Tensor embeddings(float[] pixelValues) {
        int c = config.numChannels();
        int s = config.imageSize();
        if (pixelValues.length != c * s * s) {
            throw new IllegalArgumentException("pixel values hold " + pixelValues.length + " floats; this vision tower"
                    + " takes " + c + " x " + s + " x " + s + " = " + (c * s * s) + " (one image patch in CHW order)");
        }
        int n = config.numPatches();
        int d = config.hiddenSize();
        int[] positions = new int[n];
        Arrays.setAll(positions, i -> i);
        Tensor hidden = backend.zeros(n, d);
        try (Tensor patches = backend.upload(patchify(pixelValues), n, c * config.patchSize() * config.patchSize());
             Tensor pos = backend.zeros(n, d)) {
            backend.matmul(patches, patchWeight, patchBias, hidden);
            backend.embedding(positionEmbedding, positions, pos);
            backend.add(hidden, pos, hidden);
            return hidden;
        } catch (RuntimeException e) {
            hidden.close();
            throw e;
        }
    }

    /** [P, C*p*p]: the patches as {@link ConvPatches#flatten} lays them out for the patch matmul. */
    float[] patchify(float[] chw) {
        return ConvPatches.flatten(chw, config.numChannels(), config.imageSize(), config.patchSize());
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {patchWeight, patchBias, positionEmbedding, postNormW, postNormB}) {
            if (t != null) {
                t.close();
            }
        }
        layers.forEach(EncoderLayer::close);
    }
}
