package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.cpu.CpuTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * out[n, m] = x[n, k] @ w[m, k]^T + bias, register-blocked dot products: the kernels of
 * {@code -Dsparkmm.simd.gemm=dot} and {@code legacy}, kept to measure against; the default is
 * {@link PackedGemm}, which sums each element in another order.
 *
 * <p>Batch invariance is the design constraint: out[i, j] must not depend on n, on the tile
 * that computes it, or on the thread. Every kernel here therefore computes each element the
 * same way: one vector of L lane-wise FMA partial sums over k in [0, loopBound(k)), then the
 * lanes added in index order, then the scalar tail k in [loopBound(k), k) in index order,
 * then the bias. Tiles only share loads between elements, never arithmetic. The lanes are
 * summed by hand rather than with reduceLanes, whose order is unspecified and could differ
 * between interpreted and compiled code.
 */
final class Gemm {

    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final int L = FS.length();
    /** Tile of 4 activation rows x 3 weight rows: 12 accumulators + 4 operands fit 16 AVX2 registers. */
    static final int ROWS = 4;
    static final int COLS = 3;

    private static final ThreadLocal<float[]> WEIGHTS = ThreadLocal.withInitial(() -> new float[0]);

    private Gemm() {
    }

    /** Bytes of weight rows decoded (or, F32, read) per column block: kept in L2 with a row block of x. */
    private static final int WEIGHT_BLOCK_BYTES = 256 << 10;
    /** Bytes of activation rows per row block. */
    private static final int ROW_BLOCK_BYTES = 512 << 10;

    /**
     * Output columns [j0, j1) for all n rows, cache-blocked: a block of weight rows (F16/BF16
     * decoded once into this thread's scratch) meets every activation row in blocks sized to stay
     * in L2 together, instead of every 3 weight rows streaming all of x again. The tiles, and so
     * every element's arithmetic, are those of {@link #columnsUnblocked}.
     */
    static void columns(float[] x, int n, int k, CpuTensor w, float[] bias, float[] out, int m, int j0, int j1) {
        float[] lanes = new float[L];
        boolean f32 = w.isF32();
        int colBlock = Math.max(COLS, WEIGHT_BLOCK_BYTES / (4 * Math.max(1, k)) / COLS * COLS);
        int rowBlock = Math.max(ROWS, ROW_BLOCK_BYTES / (4 * Math.max(1, k)) / ROWS * ROWS);
        float[] wf = f32 ? w.data() : scratch(Math.min(colBlock, j1 - j0) * k);
        for (int jb = j0; jb < j1; jb += colBlock) {
            int jbEnd = Math.min(j1, jb + colBlock);
            int base;
            if (f32) {
                base = 0;
            } else {
                Decode.range(w, (long) jb * k, wf, 0, (jbEnd - jb) * k);
                base = jb;
            }
            for (int ib = 0; ib < n; ib += rowBlock) {
                int ibEnd = Math.min(n, ib + rowBlock);
                for (int j = jb; j < jbEnd; j += COLS) {
                    tiles(x, ib, ibEnd, k, wf, (j - base) * k, Math.min(COLS, jbEnd - j), bias, out, m, j, lanes);
                }
            }
        }
    }

    /**
     * Output columns [j0, j1) for all n rows, as before cache blocking (kept for
     * {@code -Dsparkmm.simd.gemm=legacy}). F16/BF16 weight rows are decoded once per block
     * of {@link #COLS} rows into this thread's scratch and reused for every activation row.
     */
    static void columnsUnblocked(float[] x, int n, int k, CpuTensor w, float[] bias, float[] out, int m, int j0, int j1) {
        float[] lanes = new float[L];
        boolean f32 = w.isF32();
        float[] wf = f32 ? w.data() : scratch(COLS * k);
        for (int j = j0; j < j1; j += COLS) {
            int width = Math.min(COLS, j1 - j);
            int wo;
            if (f32) {
                wo = j * k;
            } else {
                Decode.range(w, (long) j * k, wf, 0, width * k);
                wo = 0;
            }
            tiles(x, 0, n, k, wf, wo, width, bias, out, m, j, lanes);
        }
    }

    /** Rows [i0, i1) times the {@code width} (at most COLS) weight rows at wf[wo..], columns from j. */
    private static void tiles(float[] x, int i0, int i1, int k, float[] wf, int wo, int width, float[] bias,
                              float[] out, int m, int j, float[] lanes) {
        if (width == COLS) {
            int i = i0;
            for (; i + ROWS <= i1; i += ROWS) {
                tile4x3(x, i * k, k, wf, wo, out, i * m + j, m, bias, j, lanes);
            }
            for (; i < i1; i++) {
                tile1x3(x, i * k, k, wf, wo, out, i * m + j, bias, j, lanes);
            }
        } else {
            for (int c = 0; c < width; c++) {
                int i = i0;
                for (; i + ROWS <= i1; i += ROWS) {
                    tile4x1(x, i * k, k, wf, wo + c * k, out, i * m + j + c, m, bias, j + c, lanes);
                }
                for (; i < i1; i++) {
                    out[i * m + j + c] = dot(x, i * k, wf, wo + c * k, k, bias, j + c, lanes);
                }
            }
        }
    }

    /** This thread's F32 scratch of at least {@code size}, grown as needed and kept. */
    static float[] scratch(int size) {
        float[] s = WEIGHTS.get();
        if (s.length < size) {
            s = new float[size];
            WEIGHTS.set(s);
        }
        return s;
    }

    /** The one place an element's sum is completed; see the class comment for the order. */
    private static float finish(FloatVector acc, float[] lanes, float[] x, int xo, float[] w, int wo,
                                int k, float[] bias, int j) {
        acc.intoArray(lanes, 0);
        float s = lanes[0];
        for (int l = 1; l < L; l++) {
            s += lanes[l];
        }
        for (int p = FS.loopBound(k); p < k; p++) {
            s += x[xo + p] * w[wo + p];
        }
        if (bias != null) {
            s += bias[j];
        }
        return s;
    }

    private static float dot(float[] x, int xo, float[] w, int wo, int k, float[] bias, int j, float[] lanes) {
        int kv = FS.loopBound(k);
        FloatVector acc = FloatVector.zero(FS);
        for (int p = 0; p < kv; p += L) {
            acc = FloatVector.fromArray(FS, x, xo + p).fma(FloatVector.fromArray(FS, w, wo + p), acc);
        }
        return finish(acc, lanes, x, xo, w, wo, k, bias, j);
    }

    private static void tile1x3(float[] x, int xo, int k, float[] w, int wo, float[] out, int oo,
                                float[] bias, int j, float[] lanes) {
        int kv = FS.loopBound(k);
        int w1 = wo + k;
        int w2 = wo + 2 * k;
        FloatVector c0 = FloatVector.zero(FS);
        FloatVector c1 = FloatVector.zero(FS);
        FloatVector c2 = FloatVector.zero(FS);
        for (int p = 0; p < kv; p += L) {
            FloatVector a = FloatVector.fromArray(FS, x, xo + p);
            c0 = a.fma(FloatVector.fromArray(FS, w, wo + p), c0);
            c1 = a.fma(FloatVector.fromArray(FS, w, w1 + p), c1);
            c2 = a.fma(FloatVector.fromArray(FS, w, w2 + p), c2);
        }
        out[oo] = finish(c0, lanes, x, xo, w, wo, k, bias, j);
        out[oo + 1] = finish(c1, lanes, x, xo, w, w1, k, bias, j + 1);
        out[oo + 2] = finish(c2, lanes, x, xo, w, w2, k, bias, j + 2);
    }

    private static void tile4x1(float[] x, int xo, int k, float[] w, int wo, float[] out, int oo, int m,
                                float[] bias, int j, float[] lanes) {
        int kv = FS.loopBound(k);
        int x1 = xo + k;
        int x2 = xo + 2 * k;
        int x3 = xo + 3 * k;
        FloatVector c0 = FloatVector.zero(FS);
        FloatVector c1 = FloatVector.zero(FS);
        FloatVector c2 = FloatVector.zero(FS);
        FloatVector c3 = FloatVector.zero(FS);
        for (int p = 0; p < kv; p += L) {
            FloatVector b = FloatVector.fromArray(FS, w, wo + p);
            c0 = FloatVector.fromArray(FS, x, xo + p).fma(b, c0);
            c1 = FloatVector.fromArray(FS, x, x1 + p).fma(b, c1);
            c2 = FloatVector.fromArray(FS, x, x2 + p).fma(b, c2);
            c3 = FloatVector.fromArray(FS, x, x3 + p).fma(b, c3);
        }
        out[oo] = finish(c0, lanes, x, xo, w, wo, k, bias, j);
        out[oo + m] = finish(c1, lanes, x, x1, w, wo, k, bias, j);
        out[oo + 2 * m] = finish(c2, lanes, x, x2, w, wo, k, bias, j);
        out[oo + 3 * m] = finish(c3, lanes, x, x3, w, wo, k, bias, j);
    }

    private static void tile4x3(float[] x, int xo, int k, float[] w, int wo, float[] out, int oo, int m,
                                float[] bias, int j, float[] lanes) {
        int kv = FS.loopBound(k);
        int x1 = xo + k;
        int x2 = xo + 2 * k;
        int x3 = xo + 3 * k;
        int w1 = wo + k;
        int w2 = wo + 2 * k;
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c01 = FloatVector.zero(FS);
        FloatVector c02 = FloatVector.zero(FS);
        FloatVector c10 = FloatVector.zero(FS);
        FloatVector c11 = FloatVector.zero(FS);
        FloatVector c12 = FloatVector.zero(FS);
        FloatVector c20 = FloatVector.zero(FS);
        FloatVector c21 = FloatVector.zero(FS);
        FloatVector c22 = FloatVector.zero(FS);
        FloatVector c30 = FloatVector.zero(FS);
        FloatVector c31 = FloatVector.zero(FS);
        FloatVector c32 = FloatVector.zero(FS);
        for (int p = 0; p < kv; p += L) {
            FloatVector b0 = FloatVector.fromArray(FS, w, wo + p);
            FloatVector b1 = FloatVector.fromArray(FS, w, w1 + p);
            FloatVector b2 = FloatVector.fromArray(FS, w, w2 + p);
            FloatVector a = FloatVector.fromArray(FS, x, xo + p);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            a = FloatVector.fromArray(FS, x, x1 + p);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            c12 = a.fma(b2, c12);
            a = FloatVector.fromArray(FS, x, x2 + p);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            c22 = a.fma(b2, c22);
            a = FloatVector.fromArray(FS, x, x3 + p);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            c32 = a.fma(b2, c32);
        }
        out[oo] = finish(c00, lanes, x, xo, w, wo, k, bias, j);
        out[oo + 1] = finish(c01, lanes, x, xo, w, w1, k, bias, j + 1);
        out[oo + 2] = finish(c02, lanes, x, xo, w, w2, k, bias, j + 2);
        oo += m;
        out[oo] = finish(c10, lanes, x, x1, w, wo, k, bias, j);
        out[oo + 1] = finish(c11, lanes, x, x1, w, w1, k, bias, j + 1);
        out[oo + 2] = finish(c12, lanes, x, x1, w, w2, k, bias, j + 2);
        oo += m;
        out[oo] = finish(c20, lanes, x, x2, w, wo, k, bias, j);
        out[oo + 1] = finish(c21, lanes, x, x2, w, w1, k, bias, j + 1);
        out[oo + 2] = finish(c22, lanes, x, x2, w, w2, k, bias, j + 2);
        oo += m;
        out[oo] = finish(c30, lanes, x, x3, w, wo, k, bias, j);
        out[oo + 1] = finish(c31, lanes, x, x3, w, w1, k, bias, j + 1);
        out[oo + 2] = finish(c32, lanes, x, x3, w, w2, k, bias, j + 2);
    }
}
