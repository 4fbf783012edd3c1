package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.cpu.CpuKvCache;

/**
 * Paged attention over a flattened batch, as work items (segment, KV head, query row, query head
 * of the group), numbered in that order. One item computes one output row slice of
 * {@code headDim} with {@link AttentionKernel#attend}, so no output element's sum is ever split.
 *
 * <p>The block-table accessor: an item's K/V are first gathered from the cache into this
 * thread's contiguous scratch ([position, headDim] rows, positions in order), BF16/F16 pools
 * widened on the way by {@link Decode}; copies and widening are exact, so the math then sees
 * exactly the floats the contiguous attention sees over K/V holding the stored values. Consecutive items of a
 * chunk mostly share (segment, KV head), so a gather is reused by every query head of the group
 * and extended row by row (rows of a segment come in position order) instead of being redone.
 */
final class PagedAttentionKernel {

    private static final ThreadLocal<float[][]> GATHERED = ThreadLocal.withInitial(() -> new float[2][0]);
    /** K and V bit patterns of a 16-bit pool before widening, laid out like {@link #GATHERED}. */
    private static final ThreadLocal<short[][]> GATHERED_BITS = ThreadLocal.withInitial(() -> new short[2][0]);

    private final float[] q;
    private final float[] out;
    private final CpuKvCache cache;
    private final int layer;
    private final PagedBatch batch;
    private final int heads;
    private final int group;
    private final int headDim;
    private final float scale;
    /** The block table of each segment, read once per call rather than copied per item. */
    private final int[][] tables;

    PagedAttentionKernel(float[] q, float[] out, CpuKvCache cache, int layer, PagedBatch batch,
                         int heads, int kvHeads, int headDim, float scale) {
        this.q = q;
        this.out = out;
        this.cache = cache;
        this.layer = layer;
        this.batch = batch;
        this.heads = heads;
        this.group = heads / kvHeads;
        this.headDim = headDim;
        this.scale = scale;
        this.tables = batch.blockTables();
    }

    /** Number of work items: one per query row and query head. */
    int items() {
        return batch.tokens() * heads;
    }

    /** Multiply-adds of the whole batch, to decide whether threads pay off. */
    long work() {
        long work = 0;
        for (int s = 0; s < batch.segments(); s++) {
            work += (long) batch.segmentLength(s) * batch.contextLen(s) * heads * headDim;
        }
        return work;
    }

    /** Runs items [from, to). */
    void items(int from, int to) {
        int s = segmentOf(from);
        int gatheredSegment = -1;
        int gatheredHead = -1;
        int gathered = 0;
        float[][] kv = null;
        float[] scores = null;
        int qStride = heads * headDim;
        for (int item = from; item < to; item++) {
            while (item >= batch.queryStart(s + 1) * heads) {
                s++;
            }
            int segLen = batch.segmentLength(s);
            int local = item - batch.queryStart(s) * heads;
            int kvHead = local / (segLen * group);
            int rest = local % (segLen * group);
            int row = batch.queryStart(s) + rest / group;
            int h = kvHead * group + rest % group;
            int position = batch.contextLen(s) - segLen + (row - batch.queryStart(s));
            if (s != gatheredSegment || kvHead != gatheredHead) {
                gatheredSegment = s;
                gatheredHead = kvHead;
                gathered = 0;
                kv = scratch(batch.contextLen(s) * headDim);
                scores = AttentionKernel.scratch(batch.contextLen(s));
            }
            if (gathered <= position) {
                gather(s, kvHead, gathered, position + 1, kv);
                gathered = position + 1;
            }
            int qo = row * qStride + h * headDim;
            AttentionKernel.attend(q, qo, kv[0], kv[1], 0, headDim, position, headDim, scale, scores, out, qo);
        }
    }

    /** K/V of positions [from, to) of one KV head of segment s into kv's rows [from, to), as F32. */
    private void gather(int s, int kvHead, int from, int to, float[][] kv) {
        DType dtype = cache.dtype();
        if (dtype == DType.F32) {
            cache.gather(layer, tables[s], kvHead, from, to, kv[0], kv[1]);
            return;
        }
        short[][] bits = GATHERED_BITS.get();
        if (bits[0].length < to * headDim) {
            // as long as the float scratch, which fits the whole context: no regrowth as rows extend
            bits = new short[][] {new short[kv[0].length], new short[kv[0].length]};
            GATHERED_BITS.set(bits);
        }
        cache.gatherBits(layer, tables[s], kvHead, from, to, bits[0], bits[1]);
        int off = from * headDim;
        int count = (to - from) * headDim;
        Decode.bits(dtype, bits[0], off, kv[0], off, count);
        Decode.bits(dtype, bits[1], off, kv[1], off, count);
    }

    /** The segment owning item {@code item}: the last s with queryStart(s) * heads <= item, skipping empty ones. */
    private int segmentOf(int item) {
        int lo = 0;
        int hi = batch.segments() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (batch.queryStart(mid) * heads <= item) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** This thread's K and V gather buffers, grown to at least {@code size} floats each. */
    private static float[][] scratch(int size) {
        float[][] kv = GATHERED.get();
        if (kv[0].length < size) {
            kv = new float[][] {new float[size], new float[size]};
            GATHERED.set(kv);
        }
        return kv;
    }
}
