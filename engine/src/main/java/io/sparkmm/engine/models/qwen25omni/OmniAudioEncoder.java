package io.sparkmm.engine.models.qwen25omni;

import io.sparkmm.engine.models.EncoderLayer;
import io.sparkmm.engine.models.WhisperConvStem;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.engine.models.qwen2audio.Qwen2AudioLengths;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Qwen2.5-Omni's audio tower (transformers' Qwen2_5OmniAudioEncoder) for one clip, written against
 * {@link Backend}: the clip's valid log-mel frames [M, L] are cut into windows of {@code 2 * n_window}
 * frames (the last one shorter); each window goes alone through conv1 (kernel 3, padding 1) + GELU,
 * conv2 (stride 2) + GELU, the sinusoid positions from 0, and the Whisper layers, attending only
 * within itself (transformers' per-window cu_seqlens). The windows' rows are then joined and average
 * pooled in pairs across window borders, layer-normed ({@code ln_post}) and projected to the decoder's
 * width ({@code proj}): [{@link Qwen2AudioLengths#audioTokens(int)}, output_dim].
 *
 * <p>Because a window's rows never meet another window's inside the tower, running the windows one by
 * one is the same computation as transformers' padded batch. The convolutions see zeros outside the
 * window, as the padded batch does (not the neighbouring frames).
 */
public final class OmniAudioEncoder implements AutoCloseable {

    private final OmniAudioConfig config;
    private final Backend backend;
    private final WhisperConvStem stem;
    private final Tensor normW;
    private final Tensor normB;
    private final Tensor projW; // [out, d]
    private final Tensor projB;
    private final List<EncoderLayer> layers;
    /** [n_window, d]: positions 0.. of one window (conv2 halves 2 * n_window frames into n_window rows). */
    private final Tensor positions;

    private OmniAudioEncoder(OmniAudioConfig config, Backend backend, WhisperConvStem stem, Tensor[] w,
                             List<EncoderLayer> layers) {
        this.config = config;
        this.backend = backend;
        this.stem = stem;
        this.normW = w[0];
        this.normB = w[1];
        this.projW = w[2];
        this.projB = w[3];
        this.layers = layers;
        this.positions = backend.upload(sinusoids(config.nWindow(), config.dModel()), config.nWindow(), config.dModel());
    }

    /** Loads the tower under {@code prefix} ("audio_tower." or "thinker.audio_tower."); on failure closes what the loader holds. */
    public static OmniAudioEncoder load(WeightLoader w, OmniAudioConfig c, String prefix) {
        int d = c.dModel();
        int m = c.numMelBins();
        try {
            WhisperConvStem stem = WhisperConvStem.load(w, prefix, m, d);
            Tensor[] t = {
                w.vec(prefix + "ln_post.weight", d),
                w.vec(prefix + "ln_post.bias", d),
                w.mat(prefix + "proj.weight", c.outputDim(), d),
                w.vec(prefix + "proj.bias", c.outputDim()),
            };
            List<EncoderLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                layers.add(EncoderLayer.loadWhisper(w, prefix + "layers." + i + ".", d, c.ffnDim()));
            }
            return new OmniAudioEncoder(c, w.backend(), stem, t, List.copyOf(layers));
        } catch (RuntimeException e) {
            w.closeAll();
            throw e;
        }
    }

    /**
     * Whisper's sinusoids as transformers' SinusoidsPositionEmbedding computes them (float32): for
     * channel pair i of C/2, inv = exp(-i * ln(10000) / (C/2 - 1)); row p = [sin(p * inv), cos(p * inv)].
     */
    static float[] sinusoids(int length, int channels) {
        int half = channels / 2;
        float increment = (float) (Math.log(10000.0) / (half - 1));
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            inv[i] = (float) Math.exp(-increment * (float) i);
        }
        float[] out = new float[length * channels];
        for (int p = 0; p < length; p++) {
            for (int i = 0; i < half; i++) {
                float a = (float) p * inv[i];
                out[p * channels + i] = (float) Math.sin(a);
                out[p * channels + half + i] = (float) Math.cos(a);
            }
        }
        return out;
    }

    public OmniAudioConfig config() {
        return config;
    }

    /**
     * @param features the clip's valid frames only, [M, frames] row-major (mel-major)
     * @param frames   valid mel frames (the feature attention mask's sum)
     * @return [audioTokens(frames), output_dim]; the caller owns it
     */
    public Tensor encode(float[] features, int frames) {
        int m = config.numMelBins();
        if (frames < 1 || features.length != (long) m * frames) {
            throw new IllegalArgumentException("audio features hold " + features.length + " floats, not " + m
                    + " mels x " + frames + " frames");
        }
        int tokens = Qwen2AudioLengths.audioTokens(frames);
        if (tokens <= 0) {
            throw new IllegalArgumentException("a clip of " + frames + " mel frames gives no audio token");
        }
        int d = config.dModel();
        int rowsTotal = Qwen2AudioLengths.encoderPositions(frames);
        float[] all = new float[rowsTotal * d];
        int at = 0;
        for (int start = 0; start < frames; start += config.windowFrames()) {
            int len = Math.min(config.windowFrames(), frames - start);
            // zeros outside the window, as transformers' padded batch of windows has
            try (Tensor hidden = stem.forward(features, frames, start, len, (len - 1) / 2 + 1, positions)) {
                for (EncoderLayer layer : layers) {
                    layer.run(backend, hidden, config.numHeads(), OmniAudioConfig.LAYER_NORM_EPS, config.activation());
                }
                float[] h = backend.download(hidden);
                System.arraycopy(h, 0, all, at * d, h.length);
                at += hidden.rows();
            }
        }
        float[] pooled = WhisperConvStem.poolPairs(all, tokens, d);
        try (Tensor x = backend.upload(pooled, tokens, d)) {
            backend.layerNorm(x, normW, normB, OmniAudioConfig.LAYER_NORM_EPS, x);
            Tensor out = backend.zeros(tokens, config.outputDim());
            try {
                backend.matmul(x, projW, projB, out);
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
        for (Tensor t : new Tensor[] {normW, normB, projW, projB, positions}) {
            t.close();
        }
        layers.forEach(EncoderLayer::close);
    }
}
