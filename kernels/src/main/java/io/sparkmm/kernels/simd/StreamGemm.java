package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cpu.CpuTensor;
import io.sparkmm.kernels.cpu.Half;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * out[n, m] = x[n, k] @ w[m, k]^T + bias for few activation rows (decode), where the time goes
 * into reading the weights once: each weight row is streamed from its array exactly once per
 * pass of up to {@link #PASS} activation rows, F16/BF16 values widened in registers (no scratch
 * copy), one weight row at a time. One row at a time is deliberate: measured here, a single
 * sequential stream ran near the machine's read bandwidth, while interleaving several rows'
 * streams (or bulk-copying blocks out of a mapped buffer first) reached about half of it.
 *
 * <p>Each element is summed exactly as {@link Gemm} sums it (L lane-wise FMA partial sums over
 * [0, loopBound(k)), lanes added in index order, the scalar tail, then the bias), and the
 * widening is exact, so the two kernels give identical bits: which one runs (it depends on n)
 * cannot change a token.
 */
final class StreamGemm {

    private static final VectorSpecies<Float> FS = Gemm.FS;
    private static final VectorSpecies<Integer> IS = FS.withLanes(int.class);
    private static final VectorSpecies<Short> SS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FS.vectorBitSize() / 2));
    private static final int L = FS.length();
    /** Activation rows sharing one widened weight vector: 4 accumulators + operands stay in registers. */
    static final int PASS = 4;
    private static final float F16_REBIAS = 0x1p112f;

    private StreamGemm() {
    }

    /** Output columns [j0, j1) for all n rows; w is F32 or holds heap bit patterns. */
    static void columns(float[] x, int n, int k, CpuTensor w, float[] bias, float[] out, int m, int j0, int j1) {
        float[] lanes = new float[L];
        float[] acc = new float[PASS];
        if (w.isF32()) {
            float[] wd = w.data();
            for (int j = j0; j < j1; j++) {
                for (int i = 0; i < n; i += PASS) {
                    int rows = Math.min(PASS, n - i);
                    f32Row(x, i * k, rows, k, wd, j * k, lanes, acc);
                    store(x, i, rows, k, acc, out, m, j, bias, null, 0, wd, j * k, null);
                }
            }
            return;
        }
        short[] wb = w.bits();
        boolean bf16 = w.dtype() == DType.BF16;
        for (int j = j0; j < j1; j++) {
            for (int i = 0; i < n; i += PASS) {
                int rows = Math.min(PASS, n - i);
                if (bf16) {
                    bf16Row(x, i * k, rows, k, wb, j * k, lanes, acc);
                } else {
                    f16Row(x, i * k, rows, k, wb, j * k, lanes, acc);
                }
                store(x, i, rows, k, acc, out, m, j, bias, wb, j * k, null, 0, w.dtype());
            }
        }
    }

    /** Adds the scalar tail and the bias in {@link Gemm}'s order and writes the rows' outputs. */
    private static void store(float[] x, int i0, int rows, int k, float[] acc, float[] out, int m, int j,
                              float[] bias, short[] wb, int wbo, float[] wd, int wdo, DType dtype) {
        int kv = FS.loopBound(k);
        for (int r = 0; r < rows; r++) {
            float s = acc[r];
            int xo = (i0 + r) * k;
            for (int p = kv; p < k; p++) {
                float wv = wd != null ? wd[wdo + p]
                        : dtype == DType.BF16 ? CpuTensor.bf16ToFloat(wb[wbo + p]) : Half.toFloat(wb[wbo + p]);
                s += x[xo + p] * wv;
            }
            if (bias != null) {
                s += bias[j];
            }
            out[(i0 + r) * m + j] = s;
        }
    }

    /** The lanes of v added in index order, as {@link Gemm} adds them. */
    private static float lanesInOrder(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        float s = lanes[0];
        for (int l = 1; l < L; l++) {
            s += lanes[l];
        }
        return s;
    }

    static FloatVector bf16(short[] b, int o) {
        return ((IntVector) ShortVector.fromArray(SS, b, o).convertShape(VectorOperators.S2I, IS, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** The same widening as {@link Decode}'s F16 path (exact, subnormals and specials included). */
    static FloatVector f16(short[] b, int o) {
        IntVector h = ((IntVector) ShortVector.fromArray(SS, b, o).convertShape(VectorOperators.S2I, IS, 0)).and(0xffff);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector magnitude = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        IntVector finite = magnitude.reinterpretAsFloats().mul(F16_REBIAS).reinterpretAsInts();
        VectorMask<Integer> special = h.and(0x7c00).eq(0x7c00);
        return finite.blend(magnitude.or(0x7f800000), special).or(sign).reinterpretAsFloats();
    }

    private static void bf16Row(float[] x, int xo, int rows, int k, short[] w, int wo, float[] lanes, float[] acc) {
        int kv = FS.loopBound(k);
        if (rows == 1) {
            FloatVector c0 = FloatVector.zero(FS);
            for (int p = 0; p < kv; p += L) {
                c0 = FloatVector.fromArray(FS, x, xo + p).fma(bf16(w, wo + p), c0);
            }
            acc[0] = lanesInOrder(c0, lanes);
            return;
        }
        if (rows == PASS) {
            FloatVector c0 = FloatVector.zero(FS);
            FloatVector c1 = FloatVector.zero(FS);
            FloatVector c2 = FloatVector.zero(FS);
            FloatVector c3 = FloatVector.zero(FS);
            for (int p = 0; p < kv; p += L) {
                FloatVector b = bf16(w, wo + p);
                c0 = FloatVector.fromArray(FS, x, xo + p).fma(b, c0);
                c1 = FloatVector.fromArray(FS, x, xo + k + p).fma(b, c1);
                c2 = FloatVector.fromArray(FS, x, xo + 2 * k + p).fma(b, c2);
                c3 = FloatVector.fromArray(FS, x, xo + 3 * k + p).fma(b, c3);
            }
            acc[0] = lanesInOrder(c0, lanes);
            acc[1] = lanesInOrder(c1, lanes);
            acc[2] = lanesInOrder(c2, lanes);
            acc[3] = lanesInOrder(c3, lanes);
            return;
        }
        FloatVector c0 = FloatVector.zero(FS);
        FloatVector c1 = FloatVector.zero(FS);
        FloatVector c2 = FloatVector.zero(FS);
        int x1 = xo + k;
        int x2 = xo + Math.min(2, rows - 1) * k; // rows == 2: row 1 twice, its second sum unused
        for (int p = 0; p < kv; p += L) {
            FloatVector b = bf16(w, wo + p);
            c0 = FloatVector.fromArray(FS, x, xo + p).fma(b, c0);
            c1 = FloatVector.fromArray(FS, x, x1 + p).fma(b, c1);
            c2 = FloatVector.fromArray(FS, x, x2 + p).fma(b, c2);
        }
        acc[0] = lanesInOrder(c0, lanes);
        acc[1] = lanesInOrder(c1, lanes);
        acc[2] = lanesInOrder(c2, lanes);
    }

    /** F16 weights are rare in the checkpoints served here: one activation row at a time. */
    private static void f16Row(float[] x, int xo, int rows, int k, short[] w, int wo, float[] lanes, float[] acc) {
        int kv = FS.loopBound(k);
        for (int r = 0; r < rows; r++) {
            FloatVector c = FloatVector.zero(FS);
            int xr = xo + r * k;
            for (int p = 0; p < kv; p += L) {
                c = FloatVector.fromArray(FS, x, xr + p).fma(f16(w, wo + p), c);
            }
            acc[r] = lanesInOrder(c, lanes);
        }
    }

    private static void f32Row(float[] x, int xo, int rows, int k, float[] w, int wo, float[] lanes, float[] acc) {
        int kv = FS.loopBound(k);
        if (rows == PASS) {
            FloatVector c0 = FloatVector.zero(FS);
            FloatVector c1 = FloatVector.zero(FS);
            FloatVector c2 = FloatVector.zero(FS);
            FloatVector c3 = FloatVector.zero(FS);
            for (int p = 0; p < kv; p += L) {
                FloatVector b = FloatVector.fromArray(FS, w, wo + p);
                c0 = FloatVector.fromArray(FS, x, xo + p).fma(b, c0);
                c1 = FloatVector.fromArray(FS, x, xo + k + p).fma(b, c1);
                c2 = FloatVector.fromArray(FS, x, xo + 2 * k + p).fma(b, c2);
                c3 = FloatVector.fromArray(FS, x, xo + 3 * k + p).fma(b, c3);
            }
            acc[0] = lanesInOrder(c0, lanes);
            acc[1] = lanesInOrder(c1, lanes);
            acc[2] = lanesInOrder(c2, lanes);
            acc[3] = lanesInOrder(c3, lanes);
            return;
        }
        for (int r = 0; r < rows; r++) {
            FloatVector c = FloatVector.zero(FS);
            int xr = xo + r * k;
            for (int p = 0; p < kv; p += L) {
                c = FloatVector.fromArray(FS, x, xr + p).fma(FloatVector.fromArray(FS, w, wo + p), c);
            }
            acc[r] = lanesInOrder(c, lanes);
        }
    }
}
