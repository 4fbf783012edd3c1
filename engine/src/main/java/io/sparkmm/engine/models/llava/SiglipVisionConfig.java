package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.kernels.Activation;

/**
 * A SigLIP vision tower ({@code vision_config} of LLaVA-OneVision and llava-interleave, or the
 * {@code config.json} of a SiglipVisionModel; transformers' SiglipVisionConfig), with its defaults.
 *
 * <p>Unlike CLIP there is no class token and no pre-norm: the tokens are the {@code gridSize()^2}
 * patches of a stride-{@code patchSize} convolution (a remainder at the right and bottom edges is
 * dropped, e.g. 6 of so400m's 384 pixels) plus learned positions, then {@code numLayers} pre-norm
 * layers and a final {@code post_layernorm}.
 */
public record SiglipVisionConfig(int hiddenSize, int intermediateSize, int numLayers, int numHeads, int imageSize,
                                 int patchSize, int numChannels, float layerNormEps, String hiddenAct) {

    public static final String MODEL_TYPE = "siglip_vision_model";

    public SiglipVisionConfig {
        if (hiddenSize <= 0 || intermediateSize <= 0 || numLayers <= 0 || numHeads <= 0 || imageSize <= 0
                || patchSize <= 0 || numChannels <= 0) {
            throw new IllegalArgumentException("SigLIP sizes must be positive");
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " not divisible by " + numHeads + " heads");
        }
        if (patchSize > imageSize) {
            throw new IllegalArgumentException("patch_size " + patchSize + " larger than image_size " + imageSize);
        }
        Activation.fromHf(hiddenAct);
    }

    /** Patches per side: {@code imageSize / patchSize}, rounded down like the convolution. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    /** Tokens the encoder runs over, one per patch (rows of position_embedding). */
    public int numPatches() {
        return gridSize() * gridSize();
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public Activation activation() {
        return Activation.fromHf(hiddenAct);
    }

    /**
     * Parses a {@code vision_config} object. Absent keys take SiglipVisionConfig's class defaults
     * (base, patch 16 at 224 px, gelu_pytorch_tanh, eps 1e-6), exactly as transformers applies them.
     */
    public static SiglipVisionConfig parse(JsonFields f) {
        String modelType = f.stringOr("model_type", MODEL_TYPE);
        if (!modelType.equals(MODEL_TYPE)) {
            throw f.invalid("model_type", "\"" + modelType + "\"", "expected \"" + MODEL_TYPE + "\"");
        }
        String act = f.stringOr("hidden_act", "gelu_pytorch_tanh");
        ClipVisionConfig.activation(f, "hidden_act", act);
        double eps = f.doubleOr("layer_norm_eps", 1e-6);
        if (!(eps > 0)) {
            throw f.invalid("layer_norm_eps", eps, "must be > 0");
        }
        try {
            return new SiglipVisionConfig(f.intOr("hidden_size", 768), f.intOr("intermediate_size", 3072),
                    f.intOr("num_hidden_layers", 12), f.intOr("num_attention_heads", 12), f.intOr("image_size", 224),
                    f.intOr("patch_size", 16), f.intOr("num_channels", 3), (float) eps, act);
        } catch (IllegalArgumentException e) {
            throw f.invalid("vision_config", f.node(), e.getMessage());
        }
    }
}
