package io.sparkmm.kernels;

import io.sparkmm.kernels.cpu.CpuKvCache;
import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Paged attention on both CPU backends: the same results as the reference within the attention
 * tolerance of {@link BackendEquivalenceTest}, and on each backend the bit-exact invariance the
 * engine relies on: a query's output is identical whether computed by the contiguous causal
 * attention over its whole sequence, a one-shot prefill, any chunk of a chunked prefill, or a
 * decode step, whatever else is in the batch and whatever the thread count. For BF16 and F16
 * pools the contiguous oracle attends over K/V rounded to that dtype beforehand.
 */
class PagedAttentionTest {

    private static final int[] LENGTHS = {1, 2, 15, 16, 17, 33, 100};
    /** {heads, kvHeads, headDim}: grouped (2 per KV head), multi-query with a vector tail, plain multi-head. */
    private static final int[][] HEADS = {{4, 2, 16}, {3, 1, 17}, {2, 2, 8}};

    private static Backend reference;
    private static Backend simd1;
    private static Backend simd2;

    @BeforeAll
    static void start() {
        reference = new ReferenceBackend();
        simd1 = Backends.open("cpu", 1);
        simd2 = Backends.open("cpu", 2);
    }

    @AfterAll
    static void stop() {
        reference.close();
        simd1.close();
        simd2.close();
    }

    private static void assertBitsEqual(String what, float[] expected, float[] actual) {
        assertThat(actual).as("%s: length", what).hasSameSizeAs(expected);
        for (int j = 0; j < expected.length; j++) {
            if (Float.floatToIntBits(expected[j]) != Float.floatToIntBits(actual[j])) {
                fail("%s: element %d is %s, the contiguous attention gives %s", what, j, actual[j], expected[j]);
            }
        }
    }

    private static void assertClose(String what, float[] expected, float[] actual) {
        assertThat(actual).as("%s: length", what).hasSameSizeAs(expected);
        for (int j = 0; j < expected.length; j++) {
            double allowed = 1e-5 + 1e-4 * Math.abs(expected[j]);
            if (!(Math.abs((double) actual[j] - expected[j]) <= allowed)) {
                fail("%s: element %d is %s, reference %s (allowed difference %s)", what, j, actual[j], expected[j],
                        allowed);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"16, F32", "1, F32", "3, F32", "16, BF16", "3, BF16", "16, F16", "3, F16"})
    void simdMatchesReference(int blockSize, DType dtype) {
        Random random = new Random(100 + blockSize);
        for (int[] hc : HEADS) {
            PagedFixture f = new PagedFixture(random, LENGTHS, hc[0], hc[1], hc[2], blockSize, 5);
            int[][] chunks = f.randomChunks(random);
            float[][] expected;
            try (KvCache cache = f.cache(reference, 1, dtype)) {
                expected = f.run(reference, cache, 0, chunks, new Random(1));
            }
            for (Backend simd : List.of(simd1, simd2)) {
                try (KvCache cache = f.cache(simd, 1, dtype)) {
                    float[][] actual = f.run(simd, cache, 0, chunks, new Random(2));
                    for (int i = 0; i < expected.length; i++) {
                        assertClose("paged attention, sequence of " + f.seqs.get(i).n() + ", block size " + blockSize
                                + ", " + dtype + " pool, heads " + hc[0] + "/" + hc[1] + " x " + hc[2] + " on "
                                + simd.name(), expected[i], actual[i]);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"16, F32", "1, F32", "3, F32", "16, BF16", "3, BF16", "16, F16", "3, F16"})
    void everyScheduleGivesTheContiguousBits(int blockSize, DType dtype) {
        Random random = new Random(200 + blockSize);
        for (int[] hc : HEADS) {
            PagedFixture f = new PagedFixture(random, LENGTHS, hc[0], hc[1], hc[2], blockSize, 7);
            int[][][] schedules = {f.oneShot(), f.randomChunks(random), f.tokenByToken(), f.prefillThenDecode()};
            String[] names = {"one-shot prefill", "chunked prefill", "token by token", "prefill then decode"};
            for (Backend be : List.of(reference, simd1, simd2)) {
                float[][] expected = new float[f.seqs.size()][];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = f.contiguous(be, i, dtype);
                    if (be != reference) {
                        // the thread count must not matter either: simd(1)'s contiguous bits are the oracle
                        assertBitsEqual("contiguous attention on " + be.name() + " vs simd(1)",
                                f.contiguous(simd1, i, dtype), expected[i]);
                    }
                }
                // one layer per schedule: the layers of one pool must not see each other's writes
                try (KvCache cache = f.cache(be, schedules.length, dtype)) {
                    for (int sc = 0; sc < schedules.length; sc++) {
                        float[][] actual = f.run(be, cache, sc, schedules[sc], new Random(sc));
                        for (int i = 0; i < expected.length; i++) {
                            assertBitsEqual(names[sc] + " of a sequence of " + f.seqs.get(i).n() + ", block size "
                                    + blockSize + ", " + dtype + " pool, heads " + hc[0] + "/" + hc[1] + " x " + hc[2]
                                    + " on " + be.name(), expected[i], actual[i]);
                        }
                    }
                }
            }
        }
    }

    /**
     * A sequence's rows over a BF16 (or F16) pool are the same bits when it runs alone on one
     * thread as a one-shot prefill and when it shares chunked steps with six others on two.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16"})
    void sixteenBitPoolIsBatchInvariant(DType dtype) {
        Random random = new Random(600);
        PagedFixture f = new PagedFixture(random, LENGTHS, 4, 2, 17, 4, 3);
        float[][] batched;
        try (KvCache cache = f.cache(simd2, 1, dtype)) {
            batched = f.run(simd2, cache, 0, f.randomChunks(random), new Random(6));
        }
        int[][] oneShot = f.oneShot();
        for (int i = 0; i < f.seqs.size(); i++) {
            try (KvCache cache = f.cache(simd1, 1, dtype)) {
                float[] alone = f.run(simd1, cache, 0, PagedFixture.only(i, oneShot), new Random(7))[i];
                assertBitsEqual(dtype + " pool: sequence of " + f.seqs.get(i).n() + " batched on " + simd2.name()
                        + " vs alone on " + simd1.name(), alone, batched[i]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void newKeysAndValuesLandInTheirSlotsAndNowhereElse(DType dtype) {
        Random random = new Random(300);
        PagedFixture f = new PagedFixture(random, LENGTHS, 4, 2, 8, 3, 6);
        for (Backend be : List.of(reference, simd2)) {
            try (KvCache cache = f.cache(be, 2, dtype)) {
                f.run(be, cache, 1, f.randomChunks(random), new Random(3));
                CpuKvCache c = CpuKvCache.of(cache);
                boolean[] written = new boolean[f.numBlocks * f.blockSize];
                int kvCols = f.kvHeads * f.headDim;
                for (PagedFixture.Seq s : f.seqs) {
                    float[] k = TestData.rounded(s.k(), dtype);
                    float[] v = TestData.rounded(s.v(), dtype);
                    for (int p = 0; p < s.n(); p++) {
                        int slot = f.slot(s, p);
                        written[slot] = true;
                        for (int h = 0; h < f.kvHeads; h++) {
                            for (int d = 0; d < f.headDim; d++) {
                                assertThat(c.get(1, false, slot, h, d)).as("K of position %d, head %d, dim %d on %s",
                                        p, h, d, be.name()).isEqualTo(k[p * kvCols + h * f.headDim + d]);
                                assertThat(c.get(1, true, slot, h, d)).as("V of position %d, head %d, dim %d on %s",
                                        p, h, d, be.name()).isEqualTo(v[p * kvCols + h * f.headDim + d]);
                            }
                        }
                    }
                }
                for (int slot = 0; slot < written.length; slot++) {
                    for (int h = 0; h < f.kvHeads; h++) {
                        for (int d = 0; d < f.headDim; d++) {
                            for (boolean value : new boolean[] {false, true}) {
                                assertThat(c.get(0, value, slot, h, d)).as("layer 0 was never written").isZero();
                                if (!written[slot]) {
                                    assertThat(c.get(1, value, slot, h, d)).as("unused slot %d", slot).isZero();
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Query head h must read KV head h / (hq / hkv): each head of the grouped paged result equals,
     * bit for bit, a single-head contiguous attention over that query head and that KV head.
     */
    @Test
    void groupedQueryHeadsReadTheirKvHead() {
        Random random = new Random(400);
        int heads = 6;
        int kvHeads = 2;
        int hd = 12;
        PagedFixture f = new PagedFixture(random, new int[] {9, 40}, heads, kvHeads, hd, 4, 2);
        for (Backend be : List.of(reference, simd1, simd2)) {
            float[][] paged;
            try (KvCache cache = f.cache(be, 1)) {
                paged = f.run(be, cache, 0, f.randomChunks(random), new Random(4));
            }
            for (int i = 0; i < f.seqs.size(); i++) {
                PagedFixture.Seq s = f.seqs.get(i);
                for (int h = 0; h < heads; h++) {
                    int kvh = h / (heads / kvHeads);
                    float[] q1 = columns(s.q(), s.n(), heads * hd, h * hd, hd);
                    float[] k1 = columns(s.k(), s.n(), kvHeads * hd, kvh * hd, hd);
                    float[] v1 = columns(s.v(), s.n(), kvHeads * hd, kvh * hd, hd);
                    float[] single;
                    try (Tensor qt = be.upload(q1, s.n(), hd); Tensor kt = be.upload(k1, s.n(), hd);
                         Tensor vt = be.upload(v1, s.n(), hd); Tensor out = be.zeros(s.n(), hd)) {
                        be.attention(qt, kt, vt, out, 1, 1, hd, f.scale, true);
                        single = be.download(out);
                    }
                    assertBitsEqual("query head " + h + " (KV head " + kvh + ") of a sequence of " + s.n() + " on "
                            + be.name(), single, columns(paged[i], s.n(), heads * hd, h * hd, hd));
                }
            }
        }
    }

    private static float[] columns(float[] a, int rows, int cols, int from, int width) {
        float[] out = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, r * cols + from, out, r * width, width);
        }
        return out;
    }

    /** A pool cut into many small direct buffers (blocks never straddling two) gives the same bits as one buffer. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void chunkedPoolGivesTheSameBits(DType dtype) {
        Random random = new Random(500);
        PagedFixture f = new PagedFixture(random, LENGTHS, 4, 2, 16, 16, 3);
        int[][] chunks = f.randomChunks(random);
        long blockBytes = (long) f.blockSize * f.kvHeads * f.headDim * dtype.bytes();
        for (Backend be : List.of(reference, simd2)) {
            float[][] whole;
            try (KvCache cache = f.cache(be, 1, dtype)) {
                assertThat(CpuKvCache.of(cache).chunksPerLayer()).isEqualTo(1);
                whole = f.run(be, cache, 0, chunks, new Random(5));
            }
            try (CpuKvCache cache = CpuKvCache.allocate(1, f.numBlocks, f.blockSize, f.kvHeads, f.headDim, dtype,
                    3 * blockBytes + 5)) {
                assertThat(cache.chunksPerLayer()).isEqualTo((f.numBlocks + 2) / 3);
                float[][] chunked = f.run(be, cache, 0, chunks, new Random(5));
                for (int i = 0; i < whole.length; i++) {
                    assertBitsEqual("chunked " + dtype + " pool on " + be.name(), whole[i], chunked[i]);
                }
            }
        }
    }
}
