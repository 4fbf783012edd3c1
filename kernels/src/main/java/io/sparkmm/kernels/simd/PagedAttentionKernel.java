package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.cpu.CpuKvCache;

/**
 * Paged attention on the SIMD backend. Work items are (segment, KV head) pairs: each gathers
 * its sequence's keys and values for that head once into dense scratch arrays, then runs every
 * query row of the segment and every query head of the group through
 * {@link AttentionKernel#attendOne}, the routine contiguous attention uses too.
 */
final class PagedAttentionKernel {

    private static final ThreadLocal<float[][]> GATHER = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    private final float[] q;
    private final CpuKvCache cache;
    private final int layer;
    private final PagedBatch batch;
    private final float[] out;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;

    PagedAttentionKernel(float[] q, CpuKvCache cache, int layer, PagedBatch batch, float[] out,
                         int heads, int kvHeads, int headDim, float scale) {
        this.q = q;
        this.cache = cache;
        this.layer = layer;
        this.batch = batch;
        this.out = out;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = scale;
    }

    /** Writes the new tokens' K/V rows into their slots; runs before any item reads. */
    static void writeNewTokens(CpuKvCache cache, int layer, PagedBatch batch, float[] k, float[] v, int kvStride) {
        int[] slots = batch.slots();
        for (int t = 0; t < slots.length; t++) {
            cache.write(layer, slots[t], k, t * kvStride, v, t * kvStride);
        }
    }

    /** Items are numbered segment-major: item = segment * kvHeads + kvHead. */
    void items(int from, int to) {
        for (int item = from; item < to; item++) {
            one(item / kvHeads, item % kvHeads);
        }
    }

    private void one(int segment, int kvHead) {
        int first = batch.queryStart()[segment];
        int end = batch.queryStart()[segment + 1];
        int ctx = batch.contextLens()[segment];
        float[][] g = gatherScratch(ctx * headDim);
        cache.gather(layer, batch.blockTables()[segment], ctx, kvHead, g[0], g[1]);
        float[] scores = AttentionKernel.scratchScores(ctx);
        int group = heads / kvHeads;
        int qStride = heads * headDim;
        for (int r = first; r < end; r++) {
            int position = ctx - (end - first) + (r - first);
            for (int h = kvHead * group; h < (kvHead + 1) * group; h++) {
                int qo = r * qStride + h * headDim;
                AttentionKernel.attendOne(q, qo, g[0], g[1], 0, headDim, position + 1, headDim, scale, scores, out, qo);
            }
        }
    }

    private static float[][] gatherScratch(int size) {
        float[][] g = GATHER.get();
        if (g[0].length < size) {
            g = new float[][] {new float[size], new float[size]};
            GATHER.set(g);
        }
        return g;
    }
}
