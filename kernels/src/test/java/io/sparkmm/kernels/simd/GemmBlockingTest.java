package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cpu.CpuTensor;
import io.sparkmm.kernels.cpu.Half;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.fail;

/**
 * Cache blocking only reorders which tile runs when: the blocked kernel must give the unblocked
 * kernel's bits. k = 2000 makes both blocks small (30 weight rows, 64 activation rows), so n = 150
 * and m = 65 cross several blocks, with partial blocks and partial tiles at both ends, and the
 * column range starts off a tile boundary, as a thread's chunk can.
 */
class GemmBlockingTest {

    @ParameterizedTest
    @EnumSource(DType.class)
    void blockedGivesTheUnblockedBits(DType dtype) {
        Random random = new Random(20);
        int n = 150;
        int k = 2000;
        int m = 65;
        float[] x = new float[n * k];
        float[] w = new float[m * k];
        float[] bias = new float[m];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        ByteBuffer bb = ByteBuffer.allocate(w.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.05);
            switch (dtype) {
                case F32 -> bb.putFloat(w[i]);
                case F16 -> bb.putShort(Half.fromFloat(w[i]));
                case BF16 -> bb.putShort(Half.bf16FromFloat(w[i]));
            }
        }
        for (int j = 0; j < m; j++) {
            bias[j] = (float) random.nextGaussian();
        }
        bb.flip();
        CpuTensor wt = CpuTensor.rawOnHeap(dtype, bb, m, k);
        float[] expected = new float[n * m];
        float[] actual = new float[n * m];
        Gemm.columnsUnblocked(x, n, k, wt, bias, expected, m, 0, 1);
        Gemm.columnsUnblocked(x, n, k, wt, bias, expected, m, 1, m);
        Gemm.columns(x, n, k, wt, bias, actual, m, 0, 1);
        Gemm.columns(x, n, k, wt, bias, actual, m, 1, m);
        for (int e = 0; e < expected.length; e++) {
            if (Float.floatToIntBits(expected[e]) != Float.floatToIntBits(actual[e])) {
                fail("%s: element %d (row %d, column %d) is %s blocked, %s unblocked", dtype, e, e / m, e % m,
                        actual[e], expected[e]);
            }
        }
    }
}
