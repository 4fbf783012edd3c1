package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.models.EncoderLayer;
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

    private static final int KERNEL = 3;

    private final Qwen2AudioEncoderConfig config;
    private final Backend backend;
    private final Tensor conv1W; // [d, M*3]: the kernel [d, M, 3] row-major, columns (mel, tap)
    private final Tensor conv1B;
    private final Tensor conv2W; // [d, d*3]
    private final Tensor conv2B;
    private final Tensor positions; // [max_source_positions, d]
    private final List<EncoderLayer> layers;
    private final Tensor normW;
    private final Tensor normB;
    private final Activation act;

    private Qwen2AudioEncoder(Qwen2AudioEncoderConfig config, Backend backend, Tensor[] w,
                              List<EncoderLayer> layers) {
        this.config = config;
        this.backend = backend;
        this.conv1W = w[0];
        this.conv1B = w[1];
        this.conv2W = w[2];
        this.conv2B = w[3];
        this.positions = w[4];
        this.normW = w[5];
        this.normB = w[6];
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
            Tensor[] t = {
                w.get(prefix + "conv1.weight", new int[] {d, m, KERNEL}, d, m * KERNEL),
                w.vec(prefix + "conv1.bias", d),
                w.get(prefix + "conv2.weight", new int[] {d, d, KERNEL}, d, d * KERNEL),
                w.vec(prefix + "conv2.bias", d),
                w.mat(prefix + "embed_positions.weight", c.maxSourcePositions(), d),
                w.vec(prefix + "layer_norm.weight", d),
                w.vec(prefix + "layer_norm.bias", d),
            };
            List<EncoderLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                layers.add(EncoderLayer.loadWhisper(w, prefix + "layers." + i + ".", d, c.ffnDim()));
            }
            return new Qwen2AudioEncoder(c, w.backend(), t, List.copyOf(layers));
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
        try (Tensor hidden = convolutions(features, real)) {
            for (EncoderLayer layer : layers) {
                layer.run(backend, hidden, config.numHeads(), Qwen2AudioEncoderConfig.LAYER_NORM_EPS, act);
            }
            float[] h = backend.download(hidden);
            // Average pool: token t = mean of rows 2t and 2t + 1 (both real, see the class comment).
            float[] pooled = new float[tokens * d];
            for (int t = 0; t < tokens; t++) {
                for (int j = 0; j < d; j++) {
                    pooled[t * d + j] = (h[2 * t * d + j] + h[(2 * t + 1) * d + j]) * 0.5f;
                }
            }
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

    /**
     * gelu(conv2(gelu(conv1(x)))) + positions, for the first {@code rows} positions: [rows, d]. The
     * convolutions use exact (erf) GELU whatever activation_function says: that key only selects the
     * layers' MLP activation, transformers hard-codes the convolutions' one.
     */
    private Tensor convolutions(float[] features, int rows) {
        int m = config.numMelBins();
        int frames = config.inputFrames();
        int d = config.dModel();
        // conv2 output r reads conv1 outputs 2r - 1 .. 2r + 1, so conv1 is needed up to row 2 * rows - 1.
        int rows1 = Math.min(2 * rows, frames);
        float[] cols1 = new float[rows1 * m * KERNEL];
        for (int j = 0; j < rows1; j++) {
            for (int c = 0; c < m; c++) {
                for (int k = 0; k < KERNEL; k++) {
                    int f = j + k - 1; // padding 1: frame -1 and frame F are zeros
                    cols1[(j * m + c) * KERNEL + k] = f >= 0 && f < frames ? features[c * frames + f] : 0f;
                }
            }
        }
        float[] h1;
        try (Tensor x = backend.upload(cols1, rows1, m * KERNEL);
             Tensor y = backend.zeros(rows1, d)) {
            backend.matmul(x, conv1W, conv1B, y);
            backend.activation(Activation.GELU_ERF, y, y);
            h1 = backend.download(y);
        }
        float[] cols2 = new float[rows * d * KERNEL];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < KERNEL; k++) {
                int j = 2 * r + k - 1;
                if (j < 0 || j >= rows1) {
                    continue;
                }
                for (int c = 0; c < d; c++) {
                    cols2[(r * d + c) * KERNEL + k] = h1[j * d + c];
                }
            }
        }
        int[] ids = new int[rows];
        java.util.Arrays.setAll(ids, i -> i);
        Tensor hidden = backend.zeros(rows, d);
        try (Tensor x = backend.upload(cols2, rows, d * KERNEL);
             Tensor pos = backend.zeros(rows, d)) {
            backend.matmul(x, conv2W, conv2B, hidden);
            backend.activation(Activation.GELU_ERF, hidden, hidden);
            backend.embedding(positions, ids, pos);
            backend.add(hidden, pos, hidden);
            return hidden;
        } catch (RuntimeException e) {
            hidden.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {conv1W, conv1B, conv2W, conv2B, positions, normW, normB}) {
            t.close();
        }
        layers.forEach(EncoderLayer::close);
    }
}
