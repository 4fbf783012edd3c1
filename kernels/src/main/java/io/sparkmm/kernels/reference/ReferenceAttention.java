package io.sparkmm.kernels.reference;

import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.cpu.CpuKvCache;

/**
 * Scalar attention. One routine, {@link #attendOne}, computes one (query row, head) against a
 * run of key/value rows; contiguous and paged attention differ only in where those rows come
 * from, so both give the same bits for the same sequence.
 */
final class ReferenceAttention {

    private ReferenceAttention() {
    }

    /**
     * out[oo..oo+hd) = softmax(q·k_j * scale) weighted sum of v_j over j in [0, count), where
     * k_j starts at {@code kvBase + j * kvStride} in {@code k} (and likewise in {@code v}).
     */
    static void attendOne(float[] q, int qo, float[] k, float[] v, int kvBase, int kvStride, int count,
                          int headDim, float scale, float[] scores, float[] out, int oo) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < count; j++) {
            float dot = 0f;
            int ko = kvBase + j * kvStride;
            for (int c = 0; c < headDim; c++) {
                dot += q[qo + c] * k[ko + c];
            }
            scores[j] = dot * scale;
            max = Math.max(max, scores[j]);
        }
        float sum = 0f;
        for (int j = 0; j < count; j++) {
            scores[j] = (float) Math.exp(scores[j] - max);
            sum += scores[j];
        }
        for (int c = 0; c < headDim; c++) {
            float acc = 0f;
            for (int j = 0; j < count; j++) {
                acc += scores[j] * v[kvBase + j * kvStride + c];
            }
            out[oo + c] = acc / sum;
        }
    }

    static void contiguous(float[] q, float[] k, float[] v, float[] out, int n,
                           int heads, int kvHeads, int headDim, float scale, boolean causal) {
        int group = heads / kvHeads;
        int qStride = heads * headDim;
        int kvStride = kvHeads * headDim;
        float[] scores = new float[n];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < n; i++) {
                int count = causal ? i + 1 : n;
                attendOne(q, i * qStride + h * headDim, k, v, (h / group) * headDim, kvStride, count,
                        headDim, scale, scores, out, i * qStride + h * headDim);
            }
        }
    }

    static void paged(float[] q, float[] k, float[] v, CpuKvCache cache, int layer, PagedBatch batch, float[] out,
                      int heads, int kvHeads, int headDim, float scale) {
        int kvStride = kvHeads * headDim;
        int qStride = heads * headDim;
        for (int t = 0; t < batch.numTokens(); t++) {
            cache.write(layer, batch.slots()[t], k, t * kvStride, v, t * kvStride);
        }
        int group = heads / kvHeads;
        for (int s = 0; s < batch.numSegments(); s++) {
            int first = batch.queryStart()[s];
            int end = batch.queryStart()[s + 1];
            int ctx = batch.contextLens()[s];
            float[] gk = new float[ctx * headDim];
            float[] gv = new float[ctx * headDim];
            float[] scores = new float[ctx];
            for (int kvh = 0; kvh < kvHeads; kvh++) {
                cache.gather(layer, batch.blockTables()[s], ctx, kvh, gk, gv);
                for (int r = first; r < end; r++) {
                    int position = ctx - (end - first) + (r - first);
                    for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                        attendOne(q, r * qStride + h * headDim, gk, gv, 0, headDim, position + 1,
                                headDim, scale, scores, out, r * qStride + h * headDim);
                    }
                }
            }
        }
    }
}
