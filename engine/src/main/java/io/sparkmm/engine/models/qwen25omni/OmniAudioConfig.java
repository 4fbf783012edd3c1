package io.sparkmm.engine.models.qwen25omni;

import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.kernels.Activation;

/**
 * The audio tower of Qwen2.5-Omni ({@code audio_config}, transformers' Qwen2_5OmniAudioEncoderConfig):
 * Whisper layers run over windows of {@code 2 * n_window} mel frames, then an average pool, a layer
 * norm and a projection to {@code output_dim}. Absent keys take the class defaults (Qwen2.5-Omni-7B's).
 */
public record OmniAudioConfig(int dModel, int numLayers, int numHeads, int ffnDim, int numMelBins,
                              int maxSourcePositions, int nWindow, int outputDim, String activationFunction) {

    /** nn.LayerNorm's default; the config has no key for it. */
    public static final float LAYER_NORM_EPS = 1e-5f;

    public OmniAudioConfig {
        if (dModel <= 0 || numLayers <= 0 || numHeads <= 0 || ffnDim <= 0 || numMelBins <= 0 || maxSourcePositions <= 0
                || nWindow <= 0 || outputDim <= 0) {
            throw new IllegalArgumentException("Qwen2.5-Omni audio encoder sizes must be positive");
        }
        if (dModel % numHeads != 0 || dModel % 2 != 0) {
            throw new IllegalArgumentException("d_model " + dModel + " must be even and divisible by " + numHeads + " heads");
        }
        if (nWindow > maxSourcePositions) {
            throw new IllegalArgumentException("n_window " + nWindow + " exceeds max_source_positions " + maxSourcePositions);
        }
        Activation.fromHf(activationFunction);
    }

    /** Mel frames in one attention window (the last window of a clip may be shorter). */
    public int windowFrames() {
        return 2 * nWindow;
    }

    public Activation activation() {
        return Activation.fromHf(activationFunction);
    }

    public static OmniAudioConfig parse(JsonFields f) {
        String act = f.stringOr("activation_function", "gelu");
        try {
            return new OmniAudioConfig(f.intOr("d_model", 1280), f.intOr("encoder_layers", 32),
                    f.intOr("encoder_attention_heads", 20), f.intOr("encoder_ffn_dim", 5120),
                    f.intOr("num_mel_bins", 128), f.intOr("max_source_positions", 1500), f.intOr("n_window", 100),
                    f.intOr("output_dim", 3584), act);
        } catch (IllegalArgumentException e) {
            throw f.invalid("audio_config", f.node(), e.getMessage());
        }
    }
}
