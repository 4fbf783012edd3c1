package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.kernels.Activation;

/**
 * The audio tower of Qwen2-Audio ({@code audio_config}, transformers' Qwen2AudioEncoderConfig): a
 * Whisper encoder with an average pool before its final layer norm. Absent keys take the class
 * defaults, which are Qwen2-Audio-7B's (d_model 1280, 32 layers, 20 heads, ffn 5120, 128 mels,
 * 1500 positions, gelu).
 *
 * <p>{@code scale_embedding} is read and ignored: transformers computes the scale but its forward
 * never applies it, so neither do we.
 */
public record Qwen2AudioEncoderConfig(int dModel, int numLayers, int numHeads, int ffnDim, int numMelBins,
                                      int maxSourcePositions, String activationFunction) {

    public static final String MODEL_TYPE = "qwen2_audio_encoder";
    /** nn.LayerNorm's default; the config has no key for it. */
    public static final float LAYER_NORM_EPS = 1e-5f;

    public Qwen2AudioEncoderConfig {
        if (dModel <= 0 || numLayers <= 0 || numHeads <= 0 || ffnDim <= 0 || numMelBins <= 0
                || maxSourcePositions <= 0) {
            throw new IllegalArgumentException("Qwen2-Audio encoder sizes must be positive");
        }
        if (dModel % numHeads != 0) {
            throw new IllegalArgumentException("d_model " + dModel + " not divisible by " + numHeads + " heads");
        }
        Activation.fromHf(activationFunction);
    }

    /** Mel frames the encoder takes: conv2 halves them into the {@code max_source_positions} positions. */
    public int inputFrames() {
        return 2 * maxSourcePositions;
    }

    public int headDim() {
        return dModel / numHeads;
    }

    public Activation activation() {
        return Activation.fromHf(activationFunction);
    }

    public static Qwen2AudioEncoderConfig parse(JsonFields f) {
        String modelType = f.stringOr("model_type", MODEL_TYPE);
        if (!modelType.equals(MODEL_TYPE)) {
            throw f.invalid("model_type", "\"" + modelType + "\"", "expected \"" + MODEL_TYPE + "\"");
        }
        String act = f.stringOr("activation_function", "gelu");
        try {
            Activation.fromHf(act);
        } catch (IllegalArgumentException e) {
            throw f.invalid("activation_function", "\"" + act + "\"", e.getMessage());
        }
        try {
            return new Qwen2AudioEncoderConfig(f.intOr("d_model", 1280), f.intOr("encoder_layers", 32),
                    f.intOr("encoder_attention_heads", 20), f.intOr("encoder_ffn_dim", 5120),
                    f.intOr("num_mel_bins", 128), f.intOr("max_source_positions", 1500), act);
        } catch (IllegalArgumentException e) {
            throw f.invalid("audio_config", f.node(), e.getMessage());
        }
    }
}
