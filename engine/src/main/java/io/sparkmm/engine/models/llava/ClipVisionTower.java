package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.models.EncoderLayer;
import io.sparkmm.engine.checkpoint.Checkpoint;

import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The CLIP vision encoder (transformers' CLIPVisionModel) as LLaVA uses it, written against
 * {@link Backend}: it returns hidden states of chosen layers, never the pooled output, so the
 * checkpoint's {@code post_layernorm} is not loaded.
 *
 * <p>Shapes, with P = patches, T = P + 1 tokens, d = vision hidden size, C channels, p patch size:
 * pixels float[C*S*S] (CHW) -&gt; patches [P, C*p*p] -&gt; embeddings [T, d] (class token first)
 * -&gt; pre_layrnorm -&gt; hidden_states[0] -&gt; layer i -&gt; hidden_states[i + 1].
 */
public final class ClipVisionTower implements AutoCloseable {

    private final ClipVisionConfig config;
    private final Backend backend;
    private final Tensor patchWeight;       // [d, C*p*p]: the conv kernel, each row flattened (c, ky, kx)
    private final Tensor classEmbedding;    // [1, d]
    private final Tensor positionEmbedding; // [T, d]
    private final Tensor preNormW;
    private final Tensor preNormB;
    private final List<EncoderLayer> layers;
    private final Activation act;

    private ClipVisionTower(ClipVisionConfig config, Backend backend, Tensor patchWeight, Tensor classEmbedding,
                            Tensor positionEmbedding, Tensor preNormW, Tensor preNormB, List<EncoderLayer> layers) {
        this.config = config;
        this.backend = backend;
        this.patchWeight = patchWeight;
        this.classEmbedding = classEmbedding;
        this.positionEmbedding = positionEmbedding;
        this.preNormW = preNormW;
        this.preNormB = preNormB;
        this.layers = layers;
        this.act = config.activation();
    }

    /**
     * Loads the tower's weights under {@code prefix}, the module path of the CLIP transformer (e.g.
     * "vision_tower.vision_model.", or "vision_tower." as transformers 5 saves it), checking every
     * shape against the config.
     */
    public static ClipVisionTower load(Checkpoint ckpt, ClipVisionConfig c, Backend backend, String prefix) {
        int d = c.hiddenSize();
        int f = c.intermediateSize();
        int patchIn = c.numChannels() * c.patchSize() * c.patchSize();
        WeightLoader w = new WeightLoader(ckpt, backend);
        try {
            // A conv with stride = kernel size is a matmul over flattened patches; the weight's bytes
            // [d, C, p, p] are already [d, C*p*p] row-major, so only the shape changes.
            Tensor patch = w.get(prefix + "embeddings.patch_embedding.weight",
                    new int[] {d, c.numChannels(), c.patchSize(), c.patchSize()}, d, patchIn);
            Tensor cls = w.get(prefix + "embeddings.class_embedding", new int[] {d}, 1, d);
            Tensor pos = w.get(prefix + "embeddings.position_embedding.weight",
                    new int[] {c.numPositions(), d}, c.numPositions(), d);
            Tensor preW = w.get(prefix + "pre_layrnorm.weight", new int[] {d}, d);
            Tensor preB = w.get(prefix + "pre_layrnorm.bias", new int[] {d}, d);
            List<EncoderLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                layers.add(EncoderLayer.loadVit(w, prefix + "encoder.layers." + i + ".", d, f));
            }
            return new ClipVisionTower(c, backend, patch, cls, pos, preW, preB, List.copyOf(layers));
        } catch (RuntimeException e) {
            w.closeAll();
            throw e;
        }
    }

    public ClipVisionConfig config() {
        return config;
    }

    /**
     * Image features as LLaVA selects them: the hidden states at {@code featureLayers} (indices in
     * [0, numLayers], hidden_states[0] being the embeddings after pre_layrnorm), each without the
     * class token unless {@code keepClassToken}, concatenated along features in the given order.
     *
     * @param pixelValues one image, float[C*S*S] in CHW order, S = image_size (already resized,
     *                    cropped and normalized by the image processor)
     * @return [P (+1 with the class token), d * featureLayers.length]
     */
    public Tensor features(float[] pixelValues, int[] featureLayers, boolean keepClassToken) {
        if (featureLayers.length == 0) {
            throw new IllegalArgumentException("no feature layer selected");
        }
        int deepest = 0;
        for (int l : featureLayers) {
            if (l < 0 || l > layers.size()) {
                throw new IllegalArgumentException("feature layer " + l + " outside [0, " + layers.size() + "]");
            }
            deepest = Math.max(deepest, l);
        }
        int tokens = config.numPositions();
        int d = config.hiddenSize();
        int first = keepClassToken ? 0 : 1;
        int rows = tokens - first;
        // selected[j]: the rows of hidden_states[featureLayers[j]] that LLaVA keeps.
        Tensor[] selected = new Tensor[featureLayers.length];
        try (Tensor hidden = embeddings(pixelValues)) {
            // Layers past the deepest selected one cannot change the features, so they are skipped.
            for (int state = 0; state <= deepest; state++) {
                if (state > 0) {
                    layers.get(state - 1).run(backend, hidden, config.numHeads(), config.layerNormEps(), act);
                }
                for (int j = 0; j < featureLayers.length; j++) {
                    if (featureLayers[j] == state) {
                        selected[j] = backend.zeros(rows, d);
                        backend.copyRows(hidden, first, selected[j], 0, rows);
                    }
                }
            }
            if (selected.length == 1) {
                Tensor only = selected[0];
                selected[0] = null;
                return only;
            }
            return concatColumns(selected, rows, d);
        } finally {
            for (Tensor t : selected) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    /**
     * Feature-wise concatenation, for several selected layers. Backend has no column copy, so
     * this goes through the heap; it runs once per image on [P, d] tensors, small next to the tower.
     */
    private Tensor concatColumns(Tensor[] parts, int rows, int d) {
        int width = d * parts.length;
        float[] out = new float[rows * width];
        for (int j = 0; j < parts.length; j++) {
            float[] part = backend.download(parts[j]);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(part, r * d, out, r * width + j * d, d);
            }
        }
        return backend.upload(out, rows, width);
    }

    /** hidden_states[0]: pre_layrnorm(cat(class, patches @ W^T) + position_embedding), [T, d]. */
    private Tensor embeddings(float[] pixelValues) {
        int c = config.numChannels();
        int s = config.imageSize();
        if (pixelValues.length != c * s * s) {
            throw new IllegalArgumentException("pixel values hold " + pixelValues.length + " floats; this vision tower takes "
                    + c + " x " + s + " x " + s + " = " + (c * s * s) + " (one " + s + "x" + s
                    + " image in CHW order, as its image processor resizes and crops it)");
        }
        int tokens = config.numPositions();
        int d = config.hiddenSize();
        int[] positions = new int[tokens];
        Arrays.setAll(positions, i -> i);
        Tensor hidden = backend.zeros(tokens, d);
        try (Tensor patches = backend.upload(patchify(pixelValues), config.numPatches(),
                     c * config.patchSize() * config.patchSize());
             Tensor patchEmbeds = backend.zeros(config.numPatches(), d);
             Tensor cls = backend.zeros(1, d);
             Tensor pos = backend.zeros(tokens, d)) {
            backend.embedding(classEmbedding, new int[] {0}, cls);
            backend.copyRows(cls, 0, hidden, 0, 1);
            backend.matmul(patches, patchWeight, null, patchEmbeds);
            backend.copyRows(patchEmbeds, 0, hidden, 1, config.numPatches());
            backend.embedding(positionEmbedding, positions, pos);
            backend.add(hidden, pos, hidden);
            backend.layerNorm(hidden, preNormW, preNormB, config.layerNormEps(), hidden);
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
        for (Tensor t : new Tensor[] {patchWeight, classEmbedding, positionEmbedding, preNormW, preNormB}) {
            t.close();
        }
        layers.forEach(EncoderLayer::close);
    }
}
