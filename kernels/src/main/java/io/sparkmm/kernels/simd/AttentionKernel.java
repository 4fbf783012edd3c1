package io.sparkmm.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention for one (query row, query head): scores by vectorized dot products, a scalar
 * softmax, then the value rows weighted and summed, vectorized over the head dimension.
 *
 * <p>{@link #attend} is the only attention math of this backend: the contiguous attention
 * ({@link #pairs}) calls it on the K/V tensors, the paged attention ({@link PagedAttentionKernel})
 * on K/V rows gathered from the cache through a block table. Every sum runs over positions in
 * order, and what it reads is exactly the same floats either way, so a query's result is
 * bit-identical whichever path computes it, whichever thread runs it and whatever else is in
 * the batch.
 */
final class AttentionKernel {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();

    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);

    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] out;
    private final int n;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;
    private final boolean causal;

    AttentionKernel(float[] q, float[] k, float[] v, float[] out, int n,
                    int heads, int kvHeads, int headDim, float scale, boolean causal) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.out = out;
        this.n = n;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = scale;
        this.causal = causal;
    }

    /** Pairs are numbered head-major: pair = head * n + row. */
    void pairs(int from, int to) {
        float[] scores = scratch(n);
        int qStride = heads * headDim;
        int kvStride = kvHeads * headDim;
        int group = heads / kvHeads;
        for (int pair = from; pair < to; pair++) {
            int h = pair / n;
            int i = pair % n;
            int qo = i * qStride + h * headDim;
            attend(q, qo, k, v, (h / group) * headDim, kvStride, causal ? i : n - 1, headDim, scale, scores, out, qo);
        }
    }

    /** This thread's score buffer, grown to at least {@code size}. */
    static float[] scratch(int size) {
        float[] s = SCORES.get();
        if (s.length < size) {
            s = new float[size];
            SCORES.set(s);
        }
        return s;
    }

    /**
     * out[oo + c] = sum_j softmax_j(scale * q . k_j) v_j[c] over positions j in [0, last], where
     * position j's key is k[kvBase + j * kvStride ..] (its value likewise in v), {@code headDim}
     * long. {@code scores} needs room for last + 1 values.
     */
    static void attend(float[] q, int qo, float[] k, float[] v, int kvBase, int kvStride, int last, int headDim,
                       float scale, float[] scores, float[] out, int oo) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= last; j++) {
            float s = RowKernels.dot(q, qo, k, kvBase + j * kvStride, headDim) * scale;
            scores[j] = s;
            max = Math.max(max, s);
        }
        float sum = 0f;
        for (int j = 0; j <= last; j++) {
            float e = (float) Math.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        int bound = FS.loopBound(headDim);
        int c = 0;
        for (; c < bound; c += L) {
            FloatVector acc = FloatVector.zero(FS);
            for (int j = 0; j <= last; j++) {
                acc = FloatVector.fromArray(FS, v, kvBase + j * kvStride + c)
                        .fma(FloatVector.broadcast(FS, scores[j]), acc);
            }
            acc.div(sum).intoArray(out, oo + c);
        }
        for (; c < headDim; c++) {
            float acc = 0f;
            for (int j = 0; j <= last; j++) {
                acc += v[kvBase + j * kvStride + c] * scores[j];
            }
            out[oo + c] = acc / sum;
        }
    }
}
