package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.checkpoint.JsonFields;

import io.sparkmm.kernels.Activation;

/**
 * The CLIP vision tower of a LLaVA checkpoint ({@code vision_config}, transformers'
 * CLIPVisionConfig), with its defaults applied.
 *
 * <p>The tower cuts a {@code numChannels x imageSize x imageSize} image into non-overlapping
 * {@code patchSize} squares (a stride-{@code patchSize} convolution, so a remainder at the right
 * and bottom edges is ignored, as the convolution ignores it), adds one class token in front, and
 * runs {@code numLayers} pre-norm transformer layers over {@code numPatches() + 1} tokens.
 */
public record ClipVisionConfig(String modelType, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
                               int imageSize, int patchSize, int numChannels, float layerNormEps, String hiddenAct) {

    public static final String MODEL_TYPE = "clip_vision_model";

    /** Patches per side: {@code imageSize / patchSize}, rounded down like the convolution. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Tokens the encoder runs over: the class token plus one per patch (rows of position_embedding). */
    public int numPositions() {
        return numPatches() + 1;
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public Activation activation() {
        return Activation.fromHf(hiddenAct);
    }

    /** LlavaConfig's default tower when a config.json has no vision_config: CLIP ViT-L/14 at 336 px. */
    public static ClipVisionConfig llavaDefault() {
        return new ClipVisionConfig(MODEL_TYPE, 1024, 4096, 24, 16, 336, 14, 3, 1e-5f, "quick_gelu");
    }

    /**
     * Parses a {@code vision_config} object. Absent keys take CLIPVisionConfig's defaults (ViT-B/32
     * at 224 px: those are the class defaults, not LLaVA's, exactly as transformers applies them).
     */
    static ClipVisionConfig parse(JsonFields f) {
        String modelType = f.stringOr("model_type", MODEL_TYPE);
        if (!modelType.equals(MODEL_TYPE)) {
            // SigLIP towers (llava-interleave, ...) have no class token and other weight names.
            throw f.invalid("model_type", "\"" + modelType + "\"", "only CLIP vision towers (\"" + MODEL_TYPE
                    + "\") are supported in LLaVA checkpoints");
        }
        int hidden = positive(f, "hidden_size", f.intOr("hidden_size", 768));
        int intermediate = positive(f, "intermediate_size", f.intOr("intermediate_size", 3072));
        int layers = positive(f, "num_hidden_layers", f.intOr("num_hidden_layers", 12));
        int heads = positive(f, "num_attention_heads", f.intOr("num_attention_heads", 12));
        if (hidden % heads != 0) {
            throw f.invalid("hidden_size", hidden, "not divisible by num_attention_heads (" + heads + ")");
        }
        int imageSize = positive(f, "image_size", f.intOr("image_size", 224));
        int patchSize = positive(f, "patch_size", f.intOr("patch_size", 32));
        if (patchSize > imageSize) {
            throw f.invalid("patch_size", patchSize, "larger than image_size (" + imageSize + ")");
        }
        int channels = positive(f, "num_channels", f.intOr("num_channels", 3));
        double eps = f.doubleOr("layer_norm_eps", 1e-5);
        if (!(eps > 0)) {
            throw f.invalid("layer_norm_eps", eps, "must be > 0");
        }
        String act = f.stringOr("hidden_act", "quick_gelu");
        activation(f, "hidden_act", act);
        return new ClipVisionConfig(modelType, hidden, intermediate, layers, heads, imageSize, patchSize, channels,
                (float) eps, act);
    }

    /** Checks that an activation name is one we compute; the error names the file and key. */
    static Activation activation(JsonFields f, String key, String name) {
        try {
            return Activation.fromHf(name);
        } catch (IllegalArgumentException e) {
            throw f.invalid(key, "\"" + name + "\"", e.getMessage());
        }
    }

    private static int positive(JsonFields f, String key, int value) {
        if (value <= 0) {
            throw f.invalid(key, value, "must be > 0");
        }
        return value;
    }
}
