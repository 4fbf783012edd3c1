package io.sparkmm.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention for one (query head, query row) pair: scores by vectorized dot products, a scalar
 * softmax, then the value rows weighted and summed, vectorized over the head dimension.
 * A pair's result depends only on its own query and the keys/values it attends to, so the
 * split of pairs over threads never changes it.
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
    private final int group;
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
        this.group = heads / kvHeads;
        this.headDim = headDim;
        this.scale = scale;
        this.causal = causal;
    }

    /** Pairs are numbered head-major: pair = head * n + row. */
    void pairs(int from, int to) {
        float[] scores = scratch(n);
        for (int pair = from; pair < to; pair++) {
            one(pair / n, pair % n, scores);
        }
    }

    private static float[] scratch(int size) {
        float[] s = SCORES.get();
        if (s.length < size) {
            s = new float[size];
            SCORES.set(s);
        }
        return s;
    }

    private void one(int h, int i, float[] scores) {
        int qStride = heads * headDim;
        int kvStride = (heads / group) * headDim;
        int qo = i * qStride + h * headDim;
        int count = causal ? i + 1 : n;
        attendOne(q, qo, k, v, (h / group) * headDim, kvStride, count, headDim, scale, scores, out, qo);
    }

    /**
     * The one routine behind contiguous and paged attention: out[oo..oo+hd) = the softmax(q·k_j
     * * scale)-weighted sum of v_j over j in [0, count), where row j starts at
     * {@code kvBase + j * kvStride}. The arithmetic does not depend on where rows are stored,
     * so the same sequence gives the same bits through either path.
     */
    static void attendOne(float[] q, int qo, float[] k, float[] v, int kvBase, int kvStride, int count,
                          int headDim, float scale, float[] scores, float[] out, int oo) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < count; j++) {
            float s = RowKernels.dot(q, qo, k, kvBase + j * kvStride, headDim) * scale;
            scores[j] = s;
            max = Math.max(max, s);
        }
        float sum = 0f;
        for (int j = 0; j < count; j++) {
            float e = (float) Math.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        int bound = FS.loopBound(headDim);
        int c = 0;
        for (; c < bound; c += L) {
            FloatVector acc = FloatVector.zero(FS);
            for (int j = 0; j < count; j++) {
                acc = FloatVector.fromArray(FS, v, kvBase + j * kvStride + c).fma(FloatVector.broadcast(FS, scores[j]), acc);
            }
            acc.div(sum).intoArray(out, oo + c);
        }
        for (; c < headDim; c++) {
            float acc = 0f;
            for (int j = 0; j < count; j++) {
                acc += v[kvBase + j * kvStride + c] * scores[j];
            }
            out[oo + c] = acc / sum;
        }
    }

    static float[] scratchScores(int size) {
        return scratch(size);
    }
}
