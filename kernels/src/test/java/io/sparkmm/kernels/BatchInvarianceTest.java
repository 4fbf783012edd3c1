package io.sparkmm.kernels;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.fail;

/**
 * The SIMD backend's results for one row must be bit-identical whatever the batch around it:
 * its size, the row's position (and so the register tile computing it), and the thread count.
 * Compared with Float.floatToIntBits, no tolerance.
 */
class BatchInvarianceTest {

    private static Backend one;
    private static Backend two;

    @BeforeAll
    static void start() {
        one = Backends.open("cpu", 1);
        two = Backends.open("cpu", 2);
    }

    @AfterAll
    static void stop() {
        one.close();
        two.close();
    }

    private static void assertBitsEqual(String what, float[] expected, float[] actual, int actualOffset) {
        for (int j = 0; j < expected.length; j++) {
            if (Float.floatToIntBits(expected[j]) != Float.floatToIntBits(actual[actualOffset + j])) {
                fail("%s: element %d is %s alone but %s in the batch", what, j, expected[j], actual[actualOffset + j]);
            }
        }
    }

    private static float[] withRow(float[] batch, float[] row, int position) {
        float[] b = batch.clone();
        System.arraycopy(row, 0, b, position * row.length, row.length);
        return b;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void matmulRowIsTheSameInEveryBatch(DType dtype) {
        Random random = new Random(11);
        // k=333 leaves a 5-element tail for 8 lanes (and 13 for 16); m=101 is not a multiple of the
        // 3-column tile; n*m*k is above the size where the work is split over threads.
        // k=5 is shorter than a vector: the sum is tail only.
        for (int[] km : new int[][] {{333, 101}, {5, 37}}) {
            int k = km[0];
            int m = km[1];
            float[] row = TestData.gaussian(random, k, 1);
            float[] w = TestData.gaussian(random, m * k, 0.3);
            float[] bias = TestData.gaussian(random, m, 1);
            float[] alone;
            try (Tensor x = one.upload(row, 1, k); Tensor wt = one.weight(dtype, TestData.encode(w, dtype), m, k);
                 Tensor bt = one.upload(bias, m); Tensor out = one.zeros(1, m)) {
                one.matmul(x, wt, bt, out);
                alone = one.download(out);
            }
            for (Backend be : new Backend[] {one, two}) {
                try (Tensor wt = be.weight(dtype, TestData.encode(w, dtype), m, k); Tensor bt = be.upload(bias, m)) {
                    for (int n = 1; n <= 40; n++) {
                        float[] others = TestData.gaussian(random, n * k, 1);
                        for (int pos : new int[] {0, n / 2, n - 1}) {
                            try (Tensor x = be.upload(withRow(others, row, pos), n, k); Tensor out = be.zeros(n, m)) {
                                be.matmul(x, wt, bt, out);
                                assertBitsEqual("matmul " + dtype + " k=" + k + " m=" + m + " n=" + n + " row " + pos
                                        + " on " + be.name(), alone, be.download(out), pos * m);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowOpsAreTheSameInEveryBatch() {
        Random random = new Random(12);
        int d = 300;
        float[] row = TestData.gaussian(random, d, 2);
        float[] w = TestData.gaussian(random, d, 1);
        float[][] alone = new float[2][];
        try (Tensor x = one.upload(row, 1, d); Tensor wt = one.upload(w, d); Tensor out = one.zeros(1, d)) {
            one.rmsNorm(x, wt, 1e-6f, out);
            alone[0] = one.download(out);
            one.softmax(x, out);
            alone[1] = one.download(out);
        }
        for (Backend be : new Backend[] {one, two}) {
            // 300 rows x 300 is above the size where rows are split over threads
            for (int n : new int[] {2, 7, 300}) {
                int pos = n - 1;
                try (Tensor x = be.upload(withRow(TestData.gaussian(random, n * d, 2), row, pos), n, d);
                     Tensor wt = be.upload(w, d); Tensor out = be.zeros(n, d)) {
                    be.rmsNorm(x, wt, 1e-6f, out);
                    assertBitsEqual("rmsNorm n=" + n + " on " + be.name(), alone[0], be.download(out), pos * d);
                    be.softmax(x, out);
                    assertBitsEqual("softmax n=" + n + " on " + be.name(), alone[1], be.download(out), pos * d);
                }
            }
        }
    }

    @Test
    void causalAttentionRowDoesNotDependOnLaterRows() {
        Random random = new Random(13);
        int heads = 4;
        int kvHeads = 2;
        int hd = 20;
        int total = 40;
        float[] q = TestData.gaussian(random, total * heads * hd, 1);
        float[] k = TestData.gaussian(random, total * kvHeads * hd, 1);
        float[] v = TestData.gaussian(random, total * kvHeads * hd, 1);
        float[] full;
        try (Tensor qt = one.upload(q, total, heads * hd); Tensor kt = one.upload(k, total, kvHeads * hd);
             Tensor vt = one.upload(v, total, kvHeads * hd); Tensor out = one.zeros(total, heads * hd)) {
            one.attention(qt, kt, vt, out, heads, kvHeads, hd, 0.2f, true);
            full = one.download(out);
        }
        for (Backend be : new Backend[] {one, two}) {
            for (int n : new int[] {1, 9, 40}) {
                float[] qn = java.util.Arrays.copyOf(q, n * heads * hd);
                float[] kn = java.util.Arrays.copyOf(k, n * kvHeads * hd);
                float[] vn = java.util.Arrays.copyOf(v, n * kvHeads * hd);
                try (Tensor qt = be.upload(qn, n, heads * hd); Tensor kt = be.upload(kn, n, kvHeads * hd);
                     Tensor vt = be.upload(vn, n, kvHeads * hd); Tensor out = be.zeros(n, heads * hd)) {
                    be.attention(qt, kt, vt, out, heads, kvHeads, hd, 0.2f, true);
                    float[] lastRow = java.util.Arrays.copyOfRange(full, (n - 1) * heads * hd, n * heads * hd);
                    assertBitsEqual("causal attention row " + (n - 1) + " of " + n + " on " + be.name(),
                            lastRow, be.download(out), (n - 1) * heads * hd);
                }
            }
        }
    }
}
