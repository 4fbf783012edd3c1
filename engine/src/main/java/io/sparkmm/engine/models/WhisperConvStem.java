package io.sparkmm.engine.models;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

/**
 * The front and back of a Whisper-style audio tower (Qwen2-Audio's and Qwen2.5-Omni's): conv1
 * (kernel 3, padding 1) + GELU, conv2 (kernel 3, stride 2, padding 1) + GELU, + positions from 0,
 * before the encoder layers; and the average pool (kernel 2, stride 2) after them. The
 * convolutions use exact (erf) GELU whatever the config's activation says: that key selects the
 * layers' MLP activation only, transformers hard-codes the convolutions' one. Both convolutions
 * run as im2col matmuls on the backend.
 */
public final class WhisperConvStem implements AutoCloseable {

    private static final int KERNEL = 3;

    private final Backend backend;
    private final int mels;
    private final int d;
    private final Tensor conv1W; // [d, M*3]: the kernel [d, M, 3] row-major, columns (mel, tap)
    private final Tensor conv1B;
    private final Tensor conv2W; // [d, d*3]
    private final Tensor conv2B;

    private WhisperConvStem(Backend backend, int mels, int d, Tensor[] w) {
        this.backend = backend;
        this.mels = mels;
        this.d = d;
        this.conv1W = w[0];
        this.conv1B = w[1];
        this.conv2W = w[2];
        this.conv2B = w[3];
    }

    /** conv1 and conv2 under {@code prefix}; a failure leaves closing to the caller's loader. */
    public static WhisperConvStem load(WeightLoader w, String prefix, int mels, int d) {
        return new WhisperConvStem(w.backend(), mels, d, new Tensor[] {
            w.get(prefix + "conv1.weight", new int[] {d, mels, KERNEL}, d, mels * KERNEL),
            w.vec(prefix + "conv1.bias", d),
            w.get(prefix + "conv2.weight", new int[] {d, d, KERNEL}, d, d * KERNEL),
            w.vec(prefix + "conv2.bias", d),
        });
    }

    /**
     * gelu(conv2(gelu(conv1(window)))) + positions[0, rows) for the input window of frames
     * [start, start + len) of {@code features}, the frames outside the window read as zeros (the
     * convolutions' padding): [rows, d], caller owns it. conv2 output r reads conv1 outputs
     * 2r - 1 .. 2r + 1, so conv1 runs only on the window's first min(2 * rows, len) frames.
     *
     * @param features [M, frameStride] row-major (mel-major)
     * @param positions [at least rows, d]
     */
    public Tensor forward(float[] features, int frameStride, int start, int len, int rows, Tensor positions) {
        int rows1 = Math.min(2 * rows, len);
        float[] cols1 = new float[rows1 * mels * KERNEL];
        for (int j = 0; j < rows1; j++) {
            for (int c = 0; c < mels; c++) {
                for (int k = 0; k < KERNEL; k++) {
                    int f = j + k - 1;
                    cols1[(j * mels + c) * KERNEL + k] = f >= 0 && f < len ? features[c * frameStride + start + f] : 0f;
                }
            }
        }
        float[] h1;
        try (Tensor x = backend.upload(cols1, rows1, mels * KERNEL);
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

    /** The average pool after the layers: token t = mean of rows 2t and 2t + 1 of {@code h} [rows, d]. */
    public static float[] poolPairs(float[] h, int tokens, int d) {
        float[] pooled = new float[tokens * d];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < d; j++) {
                pooled[t * d + j] = (h[2 * t * d + j] + h[(2 * t + 1) * d + j]) * 0.5f;
            }
        }
        return pooled;
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {conv1W, conv1B, conv2W, conv2B}) {
            t.close();
        }
    }
}
