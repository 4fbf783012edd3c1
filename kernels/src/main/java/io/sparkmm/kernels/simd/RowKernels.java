package io.sparkmm.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized per-row kernels. Each works on one row at a time and its reductions depend only
 * on the row length (which lanes, which tail), so a row's result does not depend on how many
 * rows the batch has. Reductions finish like {@link Gemm}: lanes in index order, then the tail.
 * Transcendentals stay scalar ({@link Math#exp}): the vector EXP may be computed differently
 * by compiled and interpreted code, which would break bit reproducibility.
 */
final class RowKernels {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();

    private RowKernels() {
    }

    private static float lanes(FloatVector acc) {
        float[] lanes = new float[L];
        acc.intoArray(lanes, 0);
        float s = lanes[0];
        for (int l = 1; l < L; l++) {
            s += lanes[l];
        }
        return s;
    }

    /** Sum of a[ao + c] * b[bo + c] over c &lt; len. */
    static float dot(float[] a, int ao, float[] b, int bo, int len) {
        int bound = FS.loopBound(len);
        FloatVector acc = FloatVector.zero(FS);
        for (int c = 0; c < bound; c += L) {
            acc = FloatVector.fromArray(FS, a, ao + c).fma(FloatVector.fromArray(FS, b, bo + c), acc);
        }
        float s = lanes(acc);
        for (int c = bound; c < len; c++) {
            s += a[ao + c] * b[bo + c];
        }
        return s;
    }

    static float sum(float[] a, int off, int len) {
        int bound = FS.loopBound(len);
        FloatVector acc = FloatVector.zero(FS);
        for (int c = 0; c < bound; c += L) {
            acc = acc.add(FloatVector.fromArray(FS, a, off + c));
        }
        float s = lanes(acc);
        for (int c = bound; c < len; c++) {
            s += a[off + c];
        }
        return s;
    }

    static void rmsNorm(float[] x, float[] w, float eps, float[] out, int off, int d) {
        float ss = dot(x, off, x, off, d);
        float inv = (float) (1.0 / Math.sqrt(ss / d + eps));
        int bound = FS.loopBound(d);
        int c = 0;
        for (; c < bound; c += L) {
            FloatVector.fromArray(FS, x, off + c).mul(inv).mul(FloatVector.fromArray(FS, w, c))
                    .intoArray(out, off + c);
        }
        for (; c < d; c++) {
            out[off + c] = x[off + c] * inv * w[c];
        }
    }

    static void layerNorm(float[] x, float[] w, float[] b, float eps, float[] out, int off, int d) {
        float mean = sum(x, off, d) / d;
        int bound = FS.loopBound(d);
        FloatVector acc = FloatVector.zero(FS);
        for (int c = 0; c < bound; c += L) {
            FloatVector centered = FloatVector.fromArray(FS, x, off + c).sub(mean);
            acc = centered.fma(centered, acc);
        }
        float var = lanes(acc);
        for (int c = bound; c < d; c++) {
            float centered = x[off + c] - mean;
            var += centered * centered;
        }
        float inv = (float) (1.0 / Math.sqrt(var / d + eps));
        int c = 0;
        for (; c < bound; c += L) {
            FloatVector.fromArray(FS, x, off + c).sub(mean).mul(inv).mul(FloatVector.fromArray(FS, w, c))
                    .add(FloatVector.fromArray(FS, b, c)).intoArray(out, off + c);
        }
        for (; c < d; c++) {
            out[off + c] = (x[off + c] - mean) * inv * w[c] + b[c];
        }
    }

    static void softmax(float[] x, float[] out, int off, int d) {
        float max = max(x, off, d);
        for (int c = 0; c < d; c++) {
            out[off + c] = (float) Math.exp(x[off + c] - max);
        }
        float sum = sum(out, off, d);
        divide(out, off, d, sum);
    }

    /** The largest of a[off..off+len); max is exact, so its order does not matter. */
    static float max(float[] a, int off, int len) {
        int bound = FS.loopBound(len);
        float max = Float.NEGATIVE_INFINITY;
        if (bound > 0) {
            FloatVector acc = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
            for (int c = 0; c < bound; c += L) {
                acc = acc.max(FloatVector.fromArray(FS, a, off + c));
            }
            max = acc.reduceLanes(VectorOperators.MAX);
        }
        for (int c = bound; c < len; c++) {
            max = Math.max(max, a[off + c]);
        }
        return max;
    }

    static void divide(float[] a, int off, int len, float divisor) {
        int bound = FS.loopBound(len);
        int c = 0;
        for (; c < bound; c += L) {
            FloatVector.fromArray(FS, a, off + c).div(divisor).intoArray(a, off + c);
        }
        for (; c < len; c++) {
            a[off + c] /= divisor;
        }
    }

    /** o = a + b over [from, to); exact per element, so the split into vectors never matters. */
    static void add(float[] a, float[] b, float[] o, int from, int to) {
        int i = from;
        for (int bound = from + FS.loopBound(to - from); i < bound; i += L) {
            FloatVector.fromArray(FS, a, i).add(FloatVector.fromArray(FS, b, i)).intoArray(o, i);
        }
        for (; i < to; i++) {
            o[i] = a[i] + b[i];
        }
    }

    /**
     * Rotates every head of one row; cos and sin already include the rope scale. The pairs
     * (x[f], x[f + half]) are contiguous in f, so the rotation vectorizes over f.
     */
    static void rope(float[] x, int rowOff, int heads, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        int bound = FS.loopBound(half);
        for (int h = 0; h < heads; h++) {
            int lo = rowOff + h * headDim;
            int hi = lo + half;
            int f = 0;
            for (; f < bound; f += L) {
                FloatVector a = FloatVector.fromArray(FS, x, lo + f);
                FloatVector b = FloatVector.fromArray(FS, x, hi + f);
                FloatVector c = FloatVector.fromArray(FS, cos, f);
                FloatVector s = FloatVector.fromArray(FS, sin, f);
                a.mul(c).sub(b.mul(s)).intoArray(x, lo + f);
                b.mul(c).add(a.mul(s)).intoArray(x, hi + f);
            }
            for (; f < half; f++) {
                float a = x[lo + f];
                float b = x[hi + f];
                x[lo + f] = a * cos[f] - b * sin[f];
                x[hi + f] = b * cos[f] + a * sin[f];
            }
        }
    }
}
