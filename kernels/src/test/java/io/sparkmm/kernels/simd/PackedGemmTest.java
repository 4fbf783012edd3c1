package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.TestData;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.kernels.cpu.CpuTensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The packed kernels against their contract restated with {@link Math#fma} (IEEE fused
 * multiply-add, the JDK's, not ours): out[i, j] is fma(x[i, q], w[j, q], s) chained over q = 0..k-1
 * from +0, then plus bias[j], bit for bit. Covered: every decode row count and the blocked path
 * with edge tiles, k across the block size, m off the panel width (BF16's pairwise layout split
 * mid-panel), F32/BF16/F16 with signed zeros, subnormals and infinities, 1 and 2 threads, and
 * fused weights. Because the oracle does not depend on n, matching it for every n is batch invariance.
 */
class PackedGemmTest {

    private static VectorBackend oneThread;
    private static VectorBackend twoThreads;

    @BeforeAll
    static void open() {
        oneThread = new VectorBackend(1);
        twoThreads = new VectorBackend(2);
        assertThat(oneThread.name()).doesNotContain("gemm"); // packed is the default
    }

    @AfterAll
    static void close() {
        oneThread.close();
        twoThreads.close();
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void everyElementIsOneFmaChainOverK(DType dtype) {
        Random random = new Random(18);
        int nr = PackedWeight.NR;
        int[] ms = {1, 7, Gemm.L + 3, nr, 3 * nr + 5, 9 * nr - 1};
        int[] ks = {1, 5, 37, PackedGemm.KC, PackedGemm.KC + 3, 2 * PackedGemm.KC + 41};
        int[] ns = {1, 2, 3, 4, 5, PackedGemm.MR, PackedGemm.MR + 1, 3 * PackedGemm.MR + 2, 4 * PackedGemm.MR + 3};
        for (int k : ks) {
            for (int m : ms) {
                float[] w = TestData.rounded(special(TestData.gaussian(random, m * k, 0.3)), dtype);
                float[] bias = TestData.gaussian(random, m, 1);
                Tensor weight = oneThread.weight(dtype, TestData.encode(w, dtype), m, k);
                Tensor weight2 = twoThreads.weight(dtype, TestData.encode(w, dtype), m, k);
                for (int n : ns) {
                    float[] x = TestData.gaussian(random, n * k, 1);
                    if (x.length > 2) {
                        x[1] = -0f;
                        x[2] = 1e-40f; // an F32 subnormal
                    }
                    for (float[] b : new float[][] {null, bias}) {
                        float[] expected = fmaChains(x, n, k, w, m, b);
                        check(expected, run(oneThread, weight, x, n, k, m, b), "%s n=%d k=%d m=%d bias=%s 1 thread",
                                dtype, n, k, m, b != null);
                        check(expected, run(twoThreads, weight2, x, n, k, m, b), "%s n=%d k=%d m=%d bias=%s 2 threads",
                                dtype, n, k, m, b != null);
                    }
                }
            }
        }
    }

    @Test
    void fusedWeightsGiveEachMatmulsBits() {
        Random random = new Random(7);
        int k = 300;
        int[] ms = {PackedWeight.NR + 1, 5, 2 * PackedWeight.NR};
        for (int n : new int[] {1, 3, 20}) {
            float[] x = TestData.gaussian(random, n * k, 1);
            Tensor[] ws = new Tensor[ms.length];
            Tensor[] bs = new Tensor[ms.length];
            Tensor[] outs = new Tensor[ms.length];
            float[][] expected = new float[ms.length][];
            for (int i = 0; i < ms.length; i++) {
                float[] w = TestData.rounded(TestData.gaussian(random, ms[i] * k, 0.2), DType.BF16);
                float[] b = TestData.gaussian(random, ms[i], 1);
                ws[i] = twoThreads.weight(DType.BF16, TestData.encode(w, DType.BF16), ms[i], k);
                bs[i] = i == 1 ? null : twoThreads.upload(b, ms[i]);
                outs[i] = twoThreads.zeros(n, ms[i]);
                expected[i] = fmaChains(x, n, k, w, ms[i], i == 1 ? null : b);
            }
            try (Tensor xt = twoThreads.upload(x, n, k)) {
                twoThreads.matmuls(xt, ws, bs, outs);
            }
            for (int i = 0; i < ms.length; i++) {
                check(expected[i], twoThreads.download(outs[i]), "fused part %d n=%d", i, n);
            }
        }
    }

    @Test
    void aTensorThatIsNotAWeightIsReadAsItIsNow() {
        int n = 2;
        int k = 40;
        int m = 9;
        Random random = new Random(3);
        float[] values = TestData.gaussian(random, m * k, 1);
        CpuTensor w = CpuTensor.f32(values, m, k);
        assertThat(w.isWeight()).isFalse();
        float[] x = TestData.gaussian(random, n * k, 1);
        check(fmaChains(x, n, k, values, m, null), run(oneThread, w, x, n, k, m, null), "first call");
        // an activation reused as a matmul operand changes between calls: no stale packed copy
        for (int i = 0; i < values.length; i++) {
            values[i] = -2 * values[i] + 1;
        }
        check(fmaChains(x, n, k, values, m, null), run(oneThread, w, x, n, k, m, null), "after the values changed");
    }

    @Test
    void aWeightIsPackedOnceAndKeptWithIt() {
        int k = 16;
        int m = 3;
        float[] w = TestData.gaussian(new Random(4), m * k, 1);
        CpuTensor weight = CpuTensor.of(oneThread.weight(DType.BF16, TestData.encode(w, DType.BF16), m, k));
        assertThat(weight.isWeight()).isTrue();
        run(oneThread, weight, TestData.gaussian(new Random(5), k, 1), 1, k, m, null);
        PackedWeight first = weight.derived(PackedWeight.class, t -> {
            throw new AssertionError("packed again");
        });
        assertThat(first.rows()).isEqualTo(m);
        assertThat(first.panels()).isEqualTo(1);
    }

    @Test
    void emptyReductionGivesTheBias() {
        float[] bias = {1.5f, -2f, 0f};
        for (int n : new int[] {1, 9}) {
            float[] out = run(oneThread, oneThread.weight(DType.F32, TestData.encode(new float[0], DType.F32), 3, 0),
                    new float[0], n, 0, 3, bias);
            for (int i = 0; i < n; i++) {
                assertThat(new float[] {out[i * 3], out[i * 3 + 1], out[i * 3 + 2]}).containsExactly(bias);
            }
        }
    }

    /** The contract, written with the JDK's fused multiply-add. */
    static float[] fmaChains(float[] x, int n, int k, float[] w, int m, float[] bias) {
        float[] out = new float[n * m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                float s = 0f;
                for (int q = 0; q < k; q++) {
                    s = Math.fma(x[i * k + q], w[j * k + q], s);
                }
                out[i * m + j] = bias == null ? s : s + bias[j];
            }
        }
        return out;
    }

    private static float[] run(VectorBackend backend, Tensor w, float[] x, int n, int k, int m, float[] bias) {
        try (Tensor xt = backend.upload(x, n, k);
             Tensor bt = bias == null ? null : backend.upload(bias, m);
             Tensor out = backend.zeros(n, m)) {
            backend.matmul(xt, w, bt, out);
            return backend.download(out);
        }
    }

    private static void check(float[] expected, float[] actual, String what, Object... args) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int e = 0; e < expected.length; e++) {
            if (Float.floatToIntBits(expected[e]) != Float.floatToIntBits(actual[e])) {
                fail(String.format(what, args) + ": element " + e + " is " + actual[e] + ", the FMA chain gives " + expected[e]);
            }
        }
    }

    /** Signed zeros, a subnormal and (F16) values that overflow to infinity, where they fit. */
    private static float[] special(float[] w) {
        if (w.length > 4) {
            w[0] = -0f;
            w[1] = 3e-6f;
            w[2] = 1e-39f;
            w[3] = 70000f;
        }
        return w;
    }
}
