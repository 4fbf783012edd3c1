package io.sparkmm.kernels.reference;

import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.cpu.CpuKvCache;

/**
 * The reference attention for one (query row, query head): the only place the reference
 * backend does attention math, for contiguous and paged K/V alike. K/V are read through a
 * {@link Keys} accessor by sequence position, and every sum runs over positions in order
 * (then over the head dimension in order), so a query's result depends only on its own query
 * and the keys/values at positions 0..last, never on where they are stored or on block
 * boundaries.
 */
final class ReferenceAttention {

    /** Key and value element {@code c} of KV head {@code kvHead} at sequence position {@code pos}. */
    interface Keys {
        float key(int pos, int kvHead, int c);

        float value(int pos, int kvHead, int c);
    }

    private ReferenceAttention() {
    }

    /**
     * out[oOff + c] = sum_j softmax_j(scale * q . k_j) v_j[c] over positions j in [0, last].
     * {@code scores} needs room for last + 1 values.
     */
    static void attend(float[] q, int qOff, Keys kv, int kvHead, int last, int headDim, float scale,
                       float[] scores, float[] out, int oOff) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= last; j++) {
            float dot = 0f;
            for (int c = 0; c < headDim; c++) {
                dot += q[qOff + c] * kv.key(j, kvHead, c);
            }
            scores[j] = dot * scale;
            max = Math.max(max, scores[j]);
        }
        float sum = 0f;
        for (int j = 0; j <= last; j++) {
            scores[j] = (float) Math.exp(scores[j] - max);
            sum += scores[j];
        }
        for (int c = 0; c < headDim; c++) {
            float acc = 0f;
            for (int j = 0; j <= last; j++) {
                acc += scores[j] * kv.value(j, kvHead, c);
            }
            out[oOff + c] = acc / sum;
        }
    }

    /** K/V as rows of [n, kvHeads * headDim] arrays: the contiguous attention of one sequence. */
    static Keys contiguous(float[] k, float[] v, int kvHeads, int headDim) {
        int stride = kvHeads * headDim;
        return new Keys() {
            @Override
            public float key(int pos, int kvHead, int c) {
                return k[pos * stride + kvHead * headDim + c];
            }

            @Override
            public float value(int pos, int kvHead, int c) {
                return v[pos * stride + kvHead * headDim + c];
            }
        };
    }

    /** K/V of one segment's sequence in the paged cache, found through its block table. */
    static Keys paged(CpuKvCache cache, int layer, PagedBatch batch, int segment) {
        int blockSize = cache.blockSize();
        return new Keys() {
            @Override
            public float key(int pos, int kvHead, int c) {
                return cache.get(layer, false, slot(pos), kvHead, c);
            }

            @Override
            public float value(int pos, int kvHead, int c) {
                return cache.get(layer, true, slot(pos), kvHead, c);
            }

            private int slot(int pos) {
                return batch.block(segment, pos / blockSize) * blockSize + pos % blockSize;
            }
        };
    }
}
