package io.sparkmm.kernels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Sequences with random q/k/v, their blocks taken in shuffled (non-contiguous) order from a pool,
 * and the batches an engine would build to run them on a schedule of chunks: each step holds the
 * next chunk of every unfinished sequence, segments in a shuffled order, so a sequence always
 * shares its batch with others that are at different stages.
 */
final class PagedFixture {

    /** One sequence: q [n, heads*hd], k/v [n, kvHeads*hd], and the block ids covering its n positions. */
    record Seq(int n, float[] q, float[] k, float[] v, int[] blocks) {
    }

    final int heads;
    final int kvHeads;
    final int headDim;
    final int blockSize;
    final float scale;
    final int numBlocks;
    final List<Seq> seqs = new ArrayList<>();

    /** Sequences of the given lengths; the pool has {@code spare} blocks more than they need. */
    PagedFixture(Random random, int[] lengths, int heads, int kvHeads, int headDim, int blockSize, int spare) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.blockSize = blockSize;
        this.scale = (float) (1 / Math.sqrt(headDim));
        int needed = 0;
        for (int n : lengths) {
            needed += blocksFor(n);
        }
        this.numBlocks = needed + spare;
        List<Integer> ids = new ArrayList<>();
        for (int b = 0; b < numBlocks; b++) {
            ids.add(b);
        }
        Collections.shuffle(ids, random);
        int next = 0;
        for (int n : lengths) {
            int[] blocks = new int[blocksFor(n)];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = ids.get(next++);
            }
            seqs.add(new Seq(n, TestData.gaussian(random, n * heads * headDim, 1),
                    TestData.gaussian(random, n * kvHeads * headDim, 1),
                    TestData.gaussian(random, n * kvHeads * headDim, 1), blocks));
        }
    }

    int blocksFor(int positions) {
        return (positions + blockSize - 1) / blockSize;
    }

    int slot(Seq s, int position) {
        return s.blocks[position / blockSize] * blockSize + position % blockSize;
    }

    KvCache cache(Backend be, int layers) {
        return be.allocateKvCache(layers, numBlocks, blockSize, kvHeads, headDim);
    }

    KvCache cache(Backend be, int layers, DType dtype) {
        return be.allocateKvCache(layers, numBlocks, blockSize, kvHeads, headDim, dtype);
    }

    /** The whole-sequence contiguous causal attention of sequence i: the oracle of paged results. */
    float[] contiguous(Backend be, int i) {
        return contiguous(be, i, DType.F32);
    }

    /**
     * As {@link #contiguous(Backend, int)} over K and V first rounded to {@code dtype}: the oracle
     * of paged results over a pool in that dtype (q stays F32, as the engine passes it).
     */
    float[] contiguous(Backend be, int i, DType dtype) {
        Seq s = seqs.get(i);
        try (Tensor q = be.upload(s.q, s.n, heads * headDim);
             Tensor k = be.upload(TestData.rounded(s.k, dtype), s.n, kvHeads * headDim);
             Tensor v = be.upload(TestData.rounded(s.v, dtype), s.n, kvHeads * headDim);
             Tensor out = be.zeros(s.n, heads * headDim)) {
            be.attention(q, k, v, out, heads, kvHeads, headDim, scale, true);
            return be.download(out);
        }
    }

    /** Schedule: every sequence in one chunk (one-shot prefill). */
    int[][] oneShot() {
        return schedule(s -> new int[] {s.n});
    }

    /** Schedule: one token per step (a 1-token prefill, then decode). */
    int[][] tokenByToken() {
        return schedule(s -> filled(s.n, 1));
    }

    /** Schedule: all but the last token, then one decode step. */
    int[][] prefillThenDecode() {
        return schedule(s -> s.n == 1 ? new int[] {1} : new int[] {s.n - 1, 1});
    }

    /** Schedule: random chunks of 1 to 20 tokens (chunked prefill crossing block boundaries anywhere). */
    int[][] randomChunks(Random random) {
        return schedule(s -> {
            List<Integer> chunks = new ArrayList<>();
            for (int done = 0; done < s.n; ) {
                int c = Math.min(s.n - done, 1 + random.nextInt(20));
                chunks.add(c);
                done += c;
            }
            return chunks.stream().mapToInt(Integer::intValue).toArray();
        });
    }

    /** The schedule with every sequence but {@code i} left out: sequence i runs alone. */
    static int[][] only(int i, int[][] chunks) {
        int[][] alone = new int[chunks.length][0];
        alone[i] = chunks[i].clone();
        return alone;
    }

    private int[][] schedule(java.util.function.Function<Seq, int[]> chunks) {
        return seqs.stream().map(chunks).toArray(int[][]::new);
    }

    private static int[] filled(int n, int value) {
        int[] a = new int[n];
        Arrays.fill(a, value);
        return a;
    }

    /**
     * Runs every sequence through {@code layer} of the cache on the schedule ({@code chunks[i]}:
     * chunk sizes of sequence i) and returns each sequence's attention output [n, heads*hd].
     * Odd-numbered sequences pass their whole block table (spare blocks allowed), even ones only
     * the blocks their context covers so far.
     */
    float[][] run(Backend be, KvCache cache, int layer, int[][] chunks, Random order) {
        int qCols = heads * headDim;
        int kvCols = kvHeads * headDim;
        float[][] outs = new float[seqs.size()][];
        int[] done = new int[seqs.size()];
        for (int i = 0; i < seqs.size(); i++) {
            outs[i] = new float[seqs.get(i).n * qCols];
        }
        for (int step = 0; ; step++) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < seqs.size(); i++) {
                if (step < chunks[i].length) {
                    members.add(i);
                }
            }
            if (members.isEmpty()) {
                return outs;
            }
            Collections.shuffle(members, order);
            int segments = members.size();
            int[] queryStart = new int[segments + 1];
            int[] contextLens = new int[segments];
            int[][] tables = new int[segments][];
            for (int m = 0; m < segments; m++) {
                int i = members.get(m);
                queryStart[m + 1] = queryStart[m] + chunks[i][step];
                contextLens[m] = done[i] + chunks[i][step];
                int[] blocks = seqs.get(i).blocks;
                tables[m] = i % 2 == 1 ? blocks : Arrays.copyOf(blocks, blocksFor(contextLens[m]));
            }
            int tokens = queryStart[segments];
            float[] q = new float[tokens * qCols];
            float[] k = new float[tokens * kvCols];
            float[] v = new float[tokens * kvCols];
            int[] slots = new int[tokens];
            for (int m = 0; m < segments; m++) {
                Seq s = seqs.get(members.get(m));
                int from = done[members.get(m)];
                int len = queryStart[m + 1] - queryStart[m];
                System.arraycopy(s.q, from * qCols, q, queryStart[m] * qCols, len * qCols);
                System.arraycopy(s.k, from * kvCols, k, queryStart[m] * kvCols, len * kvCols);
                System.arraycopy(s.v, from * kvCols, v, queryStart[m] * kvCols, len * kvCols);
                for (int r = 0; r < len; r++) {
                    slots[queryStart[m] + r] = slot(s, from + r);
                }
            }
            PagedBatch batch = new PagedBatch(blockSize, queryStart, contextLens, tables, slots);
            float[] out;
            try (Tensor qt = be.upload(q, tokens, qCols); Tensor kt = be.upload(k, tokens, kvCols);
                 Tensor vt = be.upload(v, tokens, kvCols); Tensor ot = be.zeros(tokens, qCols)) {
                be.pagedAttention(qt, kt, vt, cache, layer, batch, ot, heads, kvHeads, headDim, scale);
                out = be.download(ot);
            }
            for (int m = 0; m < segments; m++) {
                int i = members.get(m);
                int len = queryStart[m + 1] - queryStart[m];
                System.arraycopy(out, queryStart[m] * qCols, outs[i], done[i] * qCols, len * qCols);
                done[i] += len;
            }
        }
    }
}
