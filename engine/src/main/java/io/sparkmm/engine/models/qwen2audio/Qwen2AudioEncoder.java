package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.models.EncoderLayer;
import io.sparkmm.engine.models.WhisperConvStem;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Qwen2-Audio's audio tower (transformers' Qwen2AudioEncoder) written against {@link Backend}, for
 * one clip: log-mel features [M, F] (F = 2 * max_source_positions = 3000) -&gt; conv1 (kernel 3,
 * padding 1) + GELU -&gt; conv2 (kernel 3, stride 2, padding 1) + GELU -&gt; + positions -&gt;
 * Whisper layers -&gt; average pool (2, stride 2) -&gt; layer_norm -&gt; [tokens, d].
 *
 * <p>Only the rows that reach the clip's {@code <|AUDIO|>} tokens are computed. transformers runs all
 * 1500 positions and masks the keys past the clip's P real positions ({@link Qwen2AudioLengths});
 * a real row therefore never reads a padded one, and the pool's kept pairs (2t, 2t + 1) all lie
 * below P, so running the layers on the P real rows alone gives the same tokens for a fraction of
 * the work on short clips. The convolutions still read the features past the clip (the
 * extractor's padding frames, not zeros) where their kernels overlap them, as transformers does.
 *
 * <p>The positions are the checkpoint's {@code embed_positions.weight}: Whisper's sinusoids, stored
 * (and frozen) in every Qwen2-Audio checkpoint, so they are loaded rather than recomputed.
 */
public final class Qwen2AudioEncoder implements AutoCloseable {

    private final Qwen2AudioEncoderConfig config;
    private final Backend backend;
    private final WhisperConvStem stem;
    private final Tensor positions; // [max_source_positions, d]
    private final List<EncoderLayer> layers;
    private final Tensor normW;
    private final Tensor normB;
    private final Activation act;

    private Qwen2AudioEncoder(Qwen2AudioEncoderConfig config, Backend backend, WhisperConvStem stem, Tensor[] w,
                              List<EncoderLayer> layers) {
        this.config = config;
        this.backend = backend;
        this.stem = stem;
        this.positions = w[0];
        this.normW = w[1];
        this.normB = w[2];
        this.layers = layers;
        this.act = config.activation();
    }

    /** Loads the tower under {@code prefix} (e.g. "audio_tower."), checking every shape against the config. */
    public static Qwen2AudioEncoder load(Checkpoint ckpt, Qwen2AudioEncoderConfig c, Backend backend, String prefix) {
        return load(new WeightLoader(ckpt, backend), c, prefix);
    }

    /**
     * As {@link #load(Checkpoint, Qwen2AudioEncoderConfig, Backend, String)} through a loader shared with
     * other parts of a model; on failure it closes everything that loader holds.
     */
    public static Qwen2AudioEncoder load(WeightLoader w, Qwen2AudioEncoderConfig c, String prefix) {
        int d = c.dModel();
        int m = c.numMelBins();
        try {
            WhisperConvStem stem = WhisperConvStem.load(w, prefix, m, d);
            Tensor[] t = {
                w.mat(prefix + "embed_positions.weight", c.maxSourcePositions(), d),
                w.vec(prefix + "layer_norm.weight", d),
                w.vec(prefix + "layer_norm.bias", d),
            };
            List<EncoderLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                layers.add(EncoderLayer.loadWhisper(w, prefix + "layers." + i + ".", d, c.ffnDim()));
            }
            return new Qwen2AudioEncoder(c, w.backend(), stem, t, List.copyOf(layers));
        } catch (RuntimeException e) {
            w.closeAll();
            throw e;
        }
    }

    public Qwen2AudioEncoderConfig config() {
        return config;
    }

    /**
     * The audio tokens of one clip, before the projector.
     *
     * @param features    input_features [M, F] row-major, as the Whisper feature extractor returns them
     *                    (padded to F frames)
     * @param validFrames frames of real audio (the feature attention mask's sum)
     * @return [{@link Qwen2AudioLengths#audioTokens(int)}, d]; the caller owns it
     * @throws IllegalArgumentException if the features are not [M, F] or the clip is too short for
     *                                  one token (2 frames or fewer)
     */
    public Tensor encode(float[] features, int validFrames) {
        int m = config.numMelBins();
        int frames = config.inputFrames();
        if (features.length != m * frames) {
            throw new IllegalArgumentException("input features hold " + features.length + " floats; this audio"
                    + " encoder takes " + m + " mels x " + frames + " frames = " + (m * frames));
        }
        if (validFrames > frames) {
            throw new IllegalArgumentException("valid frames " + validFrames + " exceed the " + frames + " frames");
        }
        int tokens = Qwen2AudioLengths.audioTokens(validFrames);
        if (tokens <= 0) {
            throw new IllegalArgumentException("a clip of " + validFrames + " mel frames gives no audio token"
                    + " (at least 3 frames, about 20 ms at hop 160, are needed)");
        }
        int real = Qwen2AudioLengths.encoderPositions(validFrames);
        int d = config.dModel();
        // the window is all F frames: past the clip the convolutions read the extractor's padding frames
        try (Tensor hidden = stem.forward(features, frames, 0, frames, real, positions)) {
            for (EncoderLayer layer : layers) {
                layer.run(backend, hidden, config.numHeads(), Qwen2AudioEncoderConfig.LAYER_NORM_EPS, act);
            }
            // the pool's pairs (2t, 2t + 1) are both real rows, see the class comment
            float[] pooled = WhisperConvStem.poolPairs(backend.download(hidden), tokens, d);
            Tensor out = backend.upload(pooled, tokens, d);
            try {
                backend.layerNorm(out, normW, normB, Qwen2AudioEncoderConfig.LAYER_NORM_EPS, out);
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        }
    }

    @Override
    public void close() {
        stem.close();
        for (Tensor t : new Tensor[] {positions, normW, normB}) {
            t.close();
        }
        layers.forEach(EncoderLayer::close);
    }
}
