package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.TestData;
import io.sparkmm.kernels.cpu.CpuTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The streaming decode kernel against the tiled kernel it replaces for few rows: identical bits
 * for every n, k (with and without a scalar tail, shorter than a vector), m, weight dtype and bias,
 * with the weights in the blocked kernel read from a byte buffer (the old storage) and in the
 * streaming one from heap bit patterns. The blocked kernel is itself held to the scalar reference
 * by BackendEquivalenceTest, so this chain keeps the reference the oracle.
 */
class StreamGemmTest {

    @ParameterizedTest
    @EnumSource(DType.class)
    void sameBitsAsTheBlockedKernel(DType dtype) {
        Random random = new Random(18);
        int lanes = Gemm.L;
        for (int k : new int[] {5, lanes, 3 * lanes + 7, 333}) {
            for (int m : new int[] {1, 7, 37}) {
                float[] w = TestData.gaussian(random, m * k, 0.3);
                if (dtype == DType.F16 && w.length > 3) {
                    w[0] = 3e-6f;   // an F16 subnormal
                    w[1] = 70000f;  // rounds to F16 infinity
                    w[2] = -0f;
                }
                float[] bias = TestData.gaussian(random, m, 1);
                CpuTensor onHeap = CpuTensor.rawOnHeap(dtype, TestData.encode(w, dtype), m, k);
                CpuTensor buffered = CpuTensor.raw(dtype, TestData.encode(w, dtype), m, k);
                assertThat(onHeap.isF32() || onHeap.hasBits()).isTrue();
                for (int n = 1; n <= 9; n++) {
                    float[] x = TestData.gaussian(random, n * k, 1);
                    for (float[] b : new float[][] {null, bias}) {
                        float[] expected = new float[n * m];
                        Gemm.columnsUnblocked(x, n, k, buffered, b, expected, m, 0, m);
                        float[] actual = new float[n * m];
                        // two column ranges, as two threads would split them
                        int half = m / 2;
                        StreamGemm.columns(x, n, k, onHeap, b, actual, m, 0, half);
                        StreamGemm.columns(x, n, k, onHeap, b, actual, m, half, m);
                        for (int e = 0; e < expected.length; e++) {
                            if (Float.floatToIntBits(expected[e]) != Float.floatToIntBits(actual[e])) {
                                fail("%s n=%d k=%d m=%d bias=%s: element %d is %s, blocked kernel %s", dtype, n, k, m,
                                        b != null, e, actual[e], expected[e]);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void heapBitsDecodeLikeTheBuffer(DType dtype) {
        float[] w = TestData.gaussian(new Random(5), 1000, 2);
        CpuTensor onHeap = CpuTensor.rawOnHeap(dtype, TestData.encode(w, dtype), 10, 100);
        CpuTensor buffered = CpuTensor.raw(dtype, TestData.encode(w, dtype), 10, 100);
        float[] a = new float[1000];
        float[] b = new float[1000];
        Decode.range(onHeap, 0, a, 0, 1000);
        Decode.range(buffered, 0, b, 0, 1000);
        assertThat(a).containsExactly(b);
        for (int i = 0; i < 1000; i += 37) {
            assertThat(onHeap.get(i)).isEqualTo(buffered.get(i));
        }
        onHeap.getRange(3, a, 0, 50);
        buffered.getRange(3, b, 0, 50);
        assertThat(a).containsExactly(b);
    }
}
