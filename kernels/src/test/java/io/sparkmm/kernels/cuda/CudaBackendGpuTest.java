package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.kernels.cpu.Half;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The GPU suite: {@link CudaBackend} on a real device against the reference backend. Excluded
 * from the default build (tag "gpu"); run by {@code -Pgpu} or scripts/gpu-check.sh, which set
 * {@code -Dsparkmm.gpu.required=true} so that a missing GPU fails instead of skipping.
 *
 * <p>Tolerances: the kernels read the same decoded weights as the reference, so differences come
 * from F32 summation order and the device's exp/erf/tanh/sin/cos: matmul 1e-6 * sqrt(k) * sum|x w|
 * + 1e-6; row ops and attention 2e-5 absolute + 2e-5 relative; element-wise ops with
 * transcendental functions 1e-5 relative + 1e-6; embedding, copyRows, add, argmax and download
 * exact. Batch invariance and paged-vs-contiguous attention are bit-exact, as the ABI promises.
 */
@Tag("gpu")
class CudaBackendGpuTest {

    private static Backend gpu;
    private static Backend ref;

    @BeforeAll
    static void start() {
        if (Boolean.getBoolean("sparkmm.gpu.required")) {
            assertThat(Cuda.available()).as("CUDA is required here: %s", Cuda.reason()).isTrue();
        } else {
            assumeTrue(Cuda.available(), Cuda.reason());
        }
        gpu = Backends.open("cuda:0", 1);
        ref = Backends.open("cpu-reference", 1);
    }

    @AfterAll
    static void stop() {
        if (gpu != null) {
            gpu.close();
            ref.close();
        }
    }

    private static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static ByteBuffer encode(float[] v, DType dtype) {
        ByteBuffer b = ByteBuffer.allocate(v.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            switch (dtype) {
                case F32 -> b.putFloat(f);
                case F16 -> b.putShort(Half.fromFloat(f));
                case BF16 -> b.putShort(Half.bf16FromFloat(f));
            }
        }
        return b.flip();
    }

    private static float[] rounded(float[] v, DType dtype) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = switch (dtype) {
                case F32 -> v[i];
                case F16 -> Half.toFloat(Half.fromFloat(v[i]));
                case BF16 -> Float.intBitsToFloat(Half.bf16FromFloat(v[i]) << 16);
            };
        }
        return r;
    }

    private static void close(Backend be, Object... tensors) {
        for (Object t : tensors) {
            ((Tensor) t).close();
        }
    }

    /** Runs {@code op} on both backends and compares with {@code abs + rel * |expected|}. */
    private static void compare(String what, Function<Backend, float[]> op, double abs, double rel) {
        float[] expected = op.apply(ref);
        float[] actual = op.apply(gpu);
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            double tol = abs + rel * Math.abs(expected[i]);
            assertThat((double) actual[i]).as("%s [%d]", what, i).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(tol));
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void matmulWithBiasMatchesTheReference(DType dtype) {
        Random r = new Random(1);
        for (int[] s : new int[][] {{1, 7, 5}, {3, 64, 17}, {65, 300, 129}, {130, 129, 64}}) {
            int n = s[0], k = s[1], m = s[2];
            float[] x = gaussian(r, n * k), w = gaussian(r, m * k), b = gaussian(r, m);
            compare("matmul " + dtype + " " + Arrays.toString(s), be -> {
                Tensor xt = be.upload(x, n, k), wt = be.weight(dtype, encode(w, dtype), m, k),
                        bt = be.weight(dtype, encode(b, dtype), m), out = be.zeros(n, m);
                be.matmul(xt, wt, bt, out);
                float[] o = be.download(out);
                close(be, xt, wt, bt, out);
                return o;
            }, 1e-6 * Math.sqrt(k) * 4 * k + 1e-6, 0);
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void rowOpsMatchTheReference(DType dtype) {
        Random r = new Random(2);
        int n = 17, d = 129;
        float[] x = gaussian(r, n * d), w = gaussian(r, d), b = gaussian(r, d);
        compare("rmsNorm " + dtype, be -> {
            Tensor xt = be.upload(x, n, d), wt = be.weight(dtype, encode(w, dtype), d), out = be.zeros(n, d);
            be.rmsNorm(xt, wt, 1e-6f, out);
            float[] o = be.download(out);
            close(be, xt, wt, out);
            return o;
        }, 2e-5, 2e-5);
        compare("layerNorm " + dtype, be -> {
            Tensor xt = be.upload(x, n, d), wt = be.weight(dtype, encode(w, dtype), d),
                    bt = be.weight(dtype, encode(b, dtype), d), out = be.zeros(n, d);
            be.layerNorm(xt, wt, bt, 1e-5f, out);
            float[] o = be.download(out);
            close(be, xt, wt, bt, out);
            return o;
        }, 2e-5, 2e-5);
        compare("embedding + download " + dtype, be -> {
            Tensor table = be.weight(dtype, encode(x, dtype), n, d), out = be.zeros(3, d);
            be.embedding(table, new int[] {16, 0, 5}, out);
            float[] o = be.download(out);
            float[] all = be.download(table);
            close(be, table, out);
            float[] both = Arrays.copyOf(o, o.length + all.length);
            System.arraycopy(all, 0, both, o.length, all.length);
            return both;
        }, 0, 0);
    }

    @Test
    void elementwiseSoftmaxRopeArgmaxAndCopyRowsMatchTheReference() {
        Random r = new Random(3);
        int n = 5, d = 300;
        float[] a = gaussian(r, n * d), b = gaussian(r, n * d);
        compare("siluMul", be -> unary(be, a, b, n, d, (x, y, o) -> be.siluMul(x, y, o)), 1e-6, 1e-5);
        compare("add", be -> unary(be, a, b, n, d, (x, y, o) -> be.add(x, y, o)), 0, 0);
        for (Activation act : Activation.values()) {
            compare("activation " + act, be -> unary(be, a, b, n, d, (x, y, o) -> be.activation(act, x, o)), 1e-6, 1e-5);
        }
        compare("softmax", be -> unary(be, a, b, n, d, (x, y, o) -> be.softmax(x, o)), 2e-5, 2e-5);
        compare("copyRows", be -> unary(be, a, b, n, d, (x, y, o) -> be.copyRows(x, 1, o, 2, 3)), 0, 0);
        int heads = 3, hd = 64;
        float[] q = gaussian(r, 7 * heads * hd);
        float[] inv = new float[hd / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) Math.pow(10000, -2.0 * i / hd);
        }
        RopePositions mrope = RopePositions.sectioned(new int[][] {{0, 1, 2, 3, 4, 5, 6}, {0, 0, 1, 1, 2, 2, 3},
                {9, 8, 7, 6, 5, 4, 3}}, new int[] {8, 12, 12});
        for (RopePositions p : new RopePositions[] {RopePositions.linear(new int[] {0, 1, 2, 100, 4095, 7, 3}), mrope}) {
            compare("rope " + p, be -> {
                Tensor x = be.upload(q, 7, heads * hd);
                be.rope(x, p, heads, hd, inv, 0.9f);
                float[] o = be.download(x);
                x.close();
                return o;
            }, 2e-5, 2e-5);
        }
        try (Tensor x = gpu.upload(a, n, d)) {
            assertThat(gpu.argmax(x)).containsExactly(ref.argmax(ref.upload(a, n, d)));
        }
    }

    interface Op3 {
        void run(Tensor a, Tensor b, Tensor out);
    }

    private static float[] unary(Backend be, float[] a, float[] b, int n, int d, Op3 op) {
        Tensor x = be.upload(a, n, d), y = be.upload(b, n, d), out = be.zeros(n, d);
        op.run(x, y, out);
        float[] o = be.download(out);
        close(be, x, y, out);
        return o;
    }

    private static float[] attention(Backend be, float[] q, float[] k, float[] v, int n, int heads, int kvHeads, int hd,
                                     boolean causal) {
        Tensor qt = be.upload(q, n, heads * hd), kt = be.upload(k, n, kvHeads * hd), vt = be.upload(v, n, kvHeads * hd),
                out = be.zeros(n, heads * hd);
        be.attention(qt, kt, vt, out, heads, kvHeads, hd, (float) (1 / Math.sqrt(hd)), causal);
        float[] o = be.download(out);
        close(be, qt, kt, vt, out);
        return o;
    }

    @Test
    void attentionMatchesTheReference() {
        Random r = new Random(4);
        for (int hd : new int[] {64, 80, 128}) {
            int n = 70, heads = 4, kvHeads = 2;
            float[] q = gaussian(r, n * heads * hd), k = gaussian(r, n * kvHeads * hd), v = gaussian(r, n * kvHeads * hd);
            for (boolean causal : new boolean[] {true, false}) {
                compare("attention hd " + hd + " causal " + causal,
                        be -> attention(be, q, k, v, n, heads, kvHeads, hd, causal), 2e-5, 2e-5);
            }
        }
    }

    /** A row's matmul and attention result alone equals the same row in a batch of 64, bit for bit. */
    @Test
    void batchInvariance() {
        Random r = new Random(5);
        int k = 896, m = 1000;
        float[] xs = gaussian(r, 64 * k), w = gaussian(r, m * k);
        try (Tensor wt = gpu.weight(DType.BF16, encode(w, DType.BF16), m, k);
             Tensor all = gpu.upload(xs, 64, k); Tensor outAll = gpu.zeros(64, m)) {
            gpu.matmul(all, wt, null, outAll);
            float[] batched = gpu.download(outAll);
            for (int row : new int[] {0, 31, 63}) {
                try (Tensor one = gpu.upload(Arrays.copyOfRange(xs, row * k, (row + 1) * k), 1, k);
                     Tensor out = gpu.zeros(1, m)) {
                    gpu.matmul(one, wt, null, out);
                    assertThat(gpu.download(out)).as("matmul row %d", row)
                            .containsExactly(Arrays.copyOfRange(batched, row * m, (row + 1) * m));
                }
            }
        }
        int heads = 4, kvHeads = 2, hd = 64, n = 64;
        float[] q = gaussian(r, n * heads * hd), kk = gaussian(r, n * kvHeads * hd), v = gaussian(r, n * kvHeads * hd);
        // attention of query row 0 causally over 64 rows sees only key 0, as a lone row does over 1 key:
        // the same result must come out whatever n is
        float[] alone = attention(gpu, Arrays.copyOfRange(q, 0, heads * hd), Arrays.copyOfRange(kk, 0, kvHeads * hd),
                Arrays.copyOfRange(v, 0, kvHeads * hd), 1, heads, kvHeads, hd, false);
        float[] causalFull = attention(gpu, q, kk, v, n, heads, kvHeads, hd, true);
        assertThat(Arrays.copyOfRange(causalFull, 0, heads * hd)).as("attention row 0 alone vs in 64").containsExactly(alone);
    }

    /** pagedAttention over a pool in each dtype equals contiguous attention over K/V rounded to it, row by row. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void pagedAttentionEqualsContiguousAttentionAndKvRoundTrips(DType dtype) {
        Random r = new Random(6);
        int heads = 4, kvHeads = 2, hd = 64, blockSize = 16;
        int[] lengths = {1, 37, 70};
        int total = Arrays.stream(lengths).sum();
        int numBlocks = 12;
        try (KvCache cache = gpu.allocateKvCache(2, numBlocks, blockSize, kvHeads, hd, dtype)) {
            int nextBlock = numBlocks - 1;
            for (int len : lengths) {
                float[] q = gaussian(r, len * heads * hd), k = gaussian(r, len * kvHeads * hd), v = gaussian(r, len * kvHeads * hd);
                int[] blocks = new int[(len + blockSize - 1) / blockSize];
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = nextBlock--; // descending ids: not contiguous in the pool
                }
                float[] expected = attention(gpu, q, rounded(k, dtype), rounded(v, dtype), len, heads, kvHeads, hd, true);
                // prefill all but the last token, then one decode step: both must equal the contiguous rows
                float[] paged = new float[len * heads * hd];
                int split = len - 1;
                for (int[] chunk : new int[][] {{0, split}, {split, len}}) {
                    int from = chunk[0], to = chunk[1];
                    if (to == from) {
                        continue;
                    }
                    int[] slots = new int[to - from];
                    for (int p = from; p < to; p++) {
                        slots[p - from] = blocks[p / blockSize] * blockSize + p % blockSize;
                    }
                    PagedBatch batch = new PagedBatch(blockSize, new int[] {0, to - from}, new int[] {to},
                            new int[][] {blocks}, slots);
                    try (Tensor qt = gpu.upload(Arrays.copyOfRange(q, from * heads * hd, to * heads * hd), to - from, heads * hd);
                         Tensor kt = gpu.upload(Arrays.copyOfRange(k, from * kvHeads * hd, to * kvHeads * hd), to - from, kvHeads * hd);
                         Tensor vt = gpu.upload(Arrays.copyOfRange(v, from * kvHeads * hd, to * kvHeads * hd), to - from, kvHeads * hd);
                         Tensor out = gpu.zeros(to - from, heads * hd)) {
                        gpu.pagedAttention(qt, kt, vt, cache, 1, batch, out, heads, kvHeads, hd, (float) (1 / Math.sqrt(hd)));
                        System.arraycopy(gpu.download(out), 0, paged, from * heads * hd, (to - from) * heads * hd);
                    }
                }
                assertThat(paged).as("%s pool, sequence of %d", dtype, len).containsExactly(expected);
            }
        }
        assertThat(total).isPositive();
    }

    /** One pagedAttention call on layer 0 of {@code cache}; returns the output rows. */
    private static float[] paged(KvCache cache, PagedBatch b, float[] q, float[] k, float[] v, int heads, int kvHeads, int hd) {
        int t = b.tokens();
        try (Tensor qt = gpu.upload(q, t, heads * hd); Tensor kt = gpu.upload(k, t, kvHeads * hd);
             Tensor vt = gpu.upload(v, t, kvHeads * hd); Tensor out = gpu.zeros(t, heads * hd)) {
            gpu.pagedAttention(qt, kt, vt, cache, 0, b, out, heads, kvHeads, hd, (float) (1 / Math.sqrt(hd)));
            return gpu.download(out);
        }
    }

    /** The batch of segments {@code (context, newTokens)}, each in its own consecutive blocks from {@code firstBlock}. */
    private static PagedBatch batchOf(int blockSize, int firstBlock, int[][] segs) {
        int[] qs = new int[segs.length + 1], ctx = new int[segs.length];
        int[][] tables = new int[segs.length][];
        List<Integer> slots = new ArrayList<>();
        for (int s = 0, next = firstBlock; s < segs.length; s++) {
            ctx[s] = segs[s][0];
            qs[s + 1] = qs[s] + segs[s][1];
            tables[s] = new int[(ctx[s] + blockSize - 1) / blockSize];
            for (int i = 0; i < tables[s].length; i++) {
                tables[s][i] = next++;
            }
            for (int p = ctx[s] - segs[s][1]; p < ctx[s]; p++) {
                slots.add(tables[s][p / blockSize] * blockSize + p % blockSize);
            }
        }
        return new PagedBatch(blockSize, qs, ctx, tables, slots.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Stronger batch invariance for pagedAttention: a decode row alone equals the same row inside
     * 64 segments of mixed lengths (decodes and prefill chunks, the row not first), bit for bit; and
     * a prefill in three chunks equals the one-shot prefill row by row. Both are what makes engine
     * output independent of what else is scheduled in a step (split-KV must not depend on the batch).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void pagedAttentionRowsAreBatchAndChunkInvariant(DType dtype) {
        Random r = new Random(7);
        int heads = 4, kvHeads = 2, hd = 128, bs = 16, qw = heads * hd, kw = kvHeads * hd;
        int[][] segs = new int[64][];
        for (int s = 0; s < 64; s++) { // context 1..600 tokens; every 5th a prefill chunk of up to 40 rows
            int ctx = 1 + r.nextInt(600);
            segs[s] = new int[] {ctx, s % 5 == 0 ? 1 + r.nextInt(Math.min(ctx, 40)) : 1};
        }
        segs[37] = new int[] {577, 1}; // the watched decode row: long context, so any KV split shows
        try (KvCache cache = gpu.allocateKvCache(1, 64 * 38 + 200, bs, kvHeads, hd, dtype)) {
            PagedBatch all = batchOf(bs, 0, segs);
            // the context before each segment's new rows: written once by a prefill of each segment alone
            for (int s = 0; s < 64; s++) {
                int before = segs[s][0] - segs[s][1];
                if (before > 0) {
                    // segment s's blocks are consecutive from its first: the same blocks, a shorter table
                    PagedBatch pre = batchOf(bs, all.blockTables()[s][0], new int[][] {{before, before}});
                    paged(cache, pre, gaussian(r, before * qw), gaussian(r, before * kw), gaussian(r, before * kw), heads, kvHeads, hd);
                }
            }
            int t = all.tokens(), row = all.queryStart()[37];
            float[] q = gaussian(r, t * qw), k = gaussian(r, t * kw), v = gaussian(r, t * kw);
            float[] alone = paged(cache, new PagedBatch(bs, new int[] {0, 1}, new int[] {577},
                    new int[][] {all.blockTables()[37]}, new int[] {all.slots()[row]}),
                    Arrays.copyOfRange(q, row * qw, (row + 1) * qw), Arrays.copyOfRange(k, row * kw, (row + 1) * kw),
                    Arrays.copyOfRange(v, row * kw, (row + 1) * kw), heads, kvHeads, hd);
            float[] batched = paged(cache, all, q, k, v, heads, kvHeads, hd);
            assertThat(Arrays.copyOfRange(batched, row * qw, (row + 1) * qw)).as("%s decode row alone vs in 64", dtype)
                    .containsExactly(alone);
            // chunked prefill (13 + 32 + 45 rows) vs one shot, in separate blocks of the same pool
            int len = 90;
            float[] pq = gaussian(r, len * qw), pk = gaussian(r, len * kw), pv = gaussian(r, len * kw);
            float[] oneShot = paged(cache, batchOf(bs, 64 * 38, new int[][] {{len, len}}), pq, pk, pv, heads, kvHeads, hd);
            float[] chunked = new float[len * qw];
            for (int[] c : new int[][] {{0, 13}, {13, 45}, {45, 90}}) {
                float[] o = paged(cache, batchOf(bs, 64 * 38 + 100, new int[][] {{c[1], c[1] - c[0]}}),
                        Arrays.copyOfRange(pq, c[0] * qw, c[1] * qw), Arrays.copyOfRange(pk, c[0] * kw, c[1] * kw),
                        Arrays.copyOfRange(pv, c[0] * kw, c[1] * kw), heads, kvHeads, hd);
                System.arraycopy(o, 0, chunked, c[0] * qw, o.length);
            }
            for (int i = 0; i < len; i++) {
                assertThat(Arrays.copyOfRange(chunked, i * qw, (i + 1) * qw)).as("%s prefill row %d chunked vs one-shot", dtype, i)
                        .containsExactly(Arrays.copyOfRange(oneShot, i * qw, (i + 1) * qw));
            }
        }
    }
}
