package io.sparkmm.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register kernels of {@link PackedGemm} (see it for the summation contract), unrolled by
 * hand so every accumulator stays in a register: the decode kernels (one, two or four rows
 * against groups of panels, into a tile of row stride 8L) and the blocked tiles (eight or six rows x one
 * panel, continuing the chains stored in c), over F32 panels (wf). {@link PackedWideKernels} has
 * the same shapes over 16-bit panels: a dtype test inside the k loop measured about 10% slower on
 * F32 (the JIT did not unswitch it), so each dtype family gets its own loops.
 */
// Written by kernels/src/gen/packed_kernels.py: edit that, not this file.
final class PackedKernels {

    private static final VectorSpecies<Float> FS = Gemm.FS;
    private static final int L = Gemm.L;
    private static final int NR = PackedWeight.NR;

    private PackedKernels() {
    }

    /** tile[0][v L, v L + L) = one row against the four panels at o0..o3: eight chains in flight. */
    static void row1(float[] x, int k, float[] wf, int o0, int o1, int o2, int o3, float[] tile) {
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c01 = FloatVector.zero(FS);
        FloatVector c02 = FloatVector.zero(FS);
        FloatVector c03 = FloatVector.zero(FS);
        FloatVector c04 = FloatVector.zero(FS);
        FloatVector c05 = FloatVector.zero(FS);
        FloatVector c06 = FloatVector.zero(FS);
        FloatVector c07 = FloatVector.zero(FS);
        for (int q = 0; q < k; q++) {
            FloatVector b0 = FloatVector.fromArray(FS, wf, o0 + q * NR);
            FloatVector b1 = FloatVector.fromArray(FS, wf, o0 + q * NR + L);
            FloatVector b2 = FloatVector.fromArray(FS, wf, o1 + q * NR);
            FloatVector b3 = FloatVector.fromArray(FS, wf, o1 + q * NR + L);
            FloatVector b4 = FloatVector.fromArray(FS, wf, o2 + q * NR);
            FloatVector b5 = FloatVector.fromArray(FS, wf, o2 + q * NR + L);
            FloatVector b6 = FloatVector.fromArray(FS, wf, o3 + q * NR);
            FloatVector b7 = FloatVector.fromArray(FS, wf, o3 + q * NR + L);
            FloatVector a = FloatVector.broadcast(FS, x[q]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            c03 = a.fma(b3, c03);
            c04 = a.fma(b4, c04);
            c05 = a.fma(b5, c05);
            c06 = a.fma(b6, c06);
            c07 = a.fma(b7, c07);
        }
        c00.intoArray(tile, 0 * L);
        c01.intoArray(tile, 1 * L);
        c02.intoArray(tile, 2 * L);
        c03.intoArray(tile, 3 * L);
        c04.intoArray(tile, 4 * L);
        c05.intoArray(tile, 5 * L);
        c06.intoArray(tile, 6 * L);
        c07.intoArray(tile, 7 * L);
    }

    /** tile[r][v L, v L + L) = rows 0 and 1 against the two panels at o0, o1. */
    static void rows2(float[] x, int k, float[] wf, int o0, int o1, float[] tile) {
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c01 = FloatVector.zero(FS);
        FloatVector c02 = FloatVector.zero(FS);
        FloatVector c03 = FloatVector.zero(FS);
        FloatVector c10 = FloatVector.zero(FS);
        FloatVector c11 = FloatVector.zero(FS);
        FloatVector c12 = FloatVector.zero(FS);
        FloatVector c13 = FloatVector.zero(FS);
        for (int q = 0; q < k; q++) {
            FloatVector b0 = FloatVector.fromArray(FS, wf, o0 + q * NR);
            FloatVector b1 = FloatVector.fromArray(FS, wf, o0 + q * NR + L);
            FloatVector b2 = FloatVector.fromArray(FS, wf, o1 + q * NR);
            FloatVector b3 = FloatVector.fromArray(FS, wf, o1 + q * NR + L);
            FloatVector a = FloatVector.broadcast(FS, x[q]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            c03 = a.fma(b3, c03);
            a = FloatVector.broadcast(FS, x[k + q]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            c12 = a.fma(b2, c12);
            c13 = a.fma(b3, c13);
        }
        c00.intoArray(tile, 0 * L);
        c01.intoArray(tile, 1 * L);
        c02.intoArray(tile, 2 * L);
        c03.intoArray(tile, 3 * L);
        c10.intoArray(tile, 8 * L);
        c11.intoArray(tile, 9 * L);
        c12.intoArray(tile, 10 * L);
        c13.intoArray(tile, 11 * L);
    }

    /** Rows 0, 1, 2 and {@code last} (3, or 2 again when there are three rows) against the two panels at o0, o1. */
    static void rows4(float[] x, int k, int last, float[] wf, int o0, int o1, float[] tile) {
        FloatVector c00 = FloatVector.zero(FS);
        FloatVector c01 = FloatVector.zero(FS);
        FloatVector c02 = FloatVector.zero(FS);
        FloatVector c03 = FloatVector.zero(FS);
        FloatVector c10 = FloatVector.zero(FS);
        FloatVector c11 = FloatVector.zero(FS);
        FloatVector c12 = FloatVector.zero(FS);
        FloatVector c13 = FloatVector.zero(FS);
        FloatVector c20 = FloatVector.zero(FS);
        FloatVector c21 = FloatVector.zero(FS);
        FloatVector c22 = FloatVector.zero(FS);
        FloatVector c23 = FloatVector.zero(FS);
        FloatVector c30 = FloatVector.zero(FS);
        FloatVector c31 = FloatVector.zero(FS);
        FloatVector c32 = FloatVector.zero(FS);
        FloatVector c33 = FloatVector.zero(FS);
        int x3 = last * k;
        for (int q = 0; q < k; q++) {
            FloatVector b0 = FloatVector.fromArray(FS, wf, o0 + q * NR);
            FloatVector b1 = FloatVector.fromArray(FS, wf, o0 + q * NR + L);
            FloatVector b2 = FloatVector.fromArray(FS, wf, o1 + q * NR);
            FloatVector b3 = FloatVector.fromArray(FS, wf, o1 + q * NR + L);
            FloatVector a = FloatVector.broadcast(FS, x[q]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            c03 = a.fma(b3, c03);
            a = FloatVector.broadcast(FS, x[k + q]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            c12 = a.fma(b2, c12);
            c13 = a.fma(b3, c13);
            a = FloatVector.broadcast(FS, x[2 * k + q]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            c22 = a.fma(b2, c22);
            c23 = a.fma(b3, c23);
            a = FloatVector.broadcast(FS, x[x3 + q]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            c32 = a.fma(b2, c32);
            c33 = a.fma(b3, c33);
        }
        c00.intoArray(tile, 0 * L);
        c01.intoArray(tile, 1 * L);
        c02.intoArray(tile, 2 * L);
        c03.intoArray(tile, 3 * L);
        c10.intoArray(tile, 8 * L);
        c11.intoArray(tile, 9 * L);
        c12.intoArray(tile, 10 * L);
        c13.intoArray(tile, 11 * L);
        c20.intoArray(tile, 16 * L);
        c21.intoArray(tile, 17 * L);
        c22.intoArray(tile, 18 * L);
        c23.intoArray(tile, 19 * L);
        c30.intoArray(tile, 24 * L);
        c31.intoArray(tile, 25 * L);
        c32.intoArray(tile, 26 * L);
        c33.intoArray(tile, 27 * L);
    }

    /**
     * 8 rows x one panel (two vectors): 16 accumulators. c[8][2L] (row stride ldc, from co) = its
     * chains continued over kl more k: x's rows from x[xo..] (row stride k; rows past {@code last}
     * repeat it, their sums unused), the panel's rows from bo ({@code [kl][NR]}); from +0 when first.
     */
    static void tile8x1(float[] x, int xo, int k, int last, float[] wf, int bo, int kl,
                               float[] c, int co, int ldc, boolean first) {
        int x0 = xo + Math.min(0, last) * k;
        int x1 = xo + Math.min(1, last) * k;
        int x2 = xo + Math.min(2, last) * k;
        int x3 = xo + Math.min(3, last) * k;
        int x4 = xo + Math.min(4, last) * k;
        int x5 = xo + Math.min(5, last) * k;
        int x6 = xo + Math.min(6, last) * k;
        int x7 = xo + Math.min(7, last) * k;
        FloatVector c00;
        FloatVector c01;
        FloatVector c10;
        FloatVector c11;
        FloatVector c20;
        FloatVector c21;
        FloatVector c30;
        FloatVector c31;
        FloatVector c40;
        FloatVector c41;
        FloatVector c50;
        FloatVector c51;
        FloatVector c60;
        FloatVector c61;
        FloatVector c70;
        FloatVector c71;
        if (first) {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = FloatVector.zero(FS);
        } else {
            c00 = FloatVector.fromArray(FS, c, co);
            c01 = FloatVector.fromArray(FS, c, co + L);
            c10 = FloatVector.fromArray(FS, c, co + ldc);
            c11 = FloatVector.fromArray(FS, c, co + ldc + L);
            c20 = FloatVector.fromArray(FS, c, co + 2 * ldc);
            c21 = FloatVector.fromArray(FS, c, co + 2 * ldc + L);
            c30 = FloatVector.fromArray(FS, c, co + 3 * ldc);
            c31 = FloatVector.fromArray(FS, c, co + 3 * ldc + L);
            c40 = FloatVector.fromArray(FS, c, co + 4 * ldc);
            c41 = FloatVector.fromArray(FS, c, co + 4 * ldc + L);
            c50 = FloatVector.fromArray(FS, c, co + 5 * ldc);
            c51 = FloatVector.fromArray(FS, c, co + 5 * ldc + L);
            c60 = FloatVector.fromArray(FS, c, co + 6 * ldc);
            c61 = FloatVector.fromArray(FS, c, co + 6 * ldc + L);
            c70 = FloatVector.fromArray(FS, c, co + 7 * ldc);
            c71 = FloatVector.fromArray(FS, c, co + 7 * ldc + L);
        }
        for (int pb = bo, q = 0; q < kl; pb += NR, q++) {
            FloatVector b0 = FloatVector.fromArray(FS, wf, pb);
            FloatVector b1 = FloatVector.fromArray(FS, wf, pb + L);
            FloatVector a = FloatVector.broadcast(FS, x[x0 + q]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(FS, x[x1 + q]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(FS, x[x2 + q]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(FS, x[x3 + q]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(FS, x[x4 + q]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(FS, x[x5 + q]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(FS, x[x6 + q]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(FS, x[x7 + q]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc);
        c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc);
        c51.intoArray(c, co + 5 * ldc + L);
        c60.intoArray(c, co + 6 * ldc);
        c61.intoArray(c, co + 6 * ldc + L);
        c70.intoArray(c, co + 7 * ldc);
        c71.intoArray(c, co + 7 * ldc + L);
    }

    /**
     * 6 rows x one panel (two vectors): 12 accumulators.
     */
    static void tile6x1(float[] x, int xo, int k, int last, float[] wf, int bo, int kl,
                               float[] c, int co, int ldc, boolean first) {
        int x0 = xo + Math.min(0, last) * k;
        int x1 = xo + Math.min(1, last) * k;
        int x2 = xo + Math.min(2, last) * k;
        int x3 = xo + Math.min(3, last) * k;
        int x4 = xo + Math.min(4, last) * k;
        int x5 = xo + Math.min(5, last) * k;
        FloatVector c00;
        FloatVector c01;
        FloatVector c10;
        FloatVector c11;
        FloatVector c20;
        FloatVector c21;
        FloatVector c30;
        FloatVector c31;
        FloatVector c40;
        FloatVector c41;
        FloatVector c50;
        FloatVector c51;
        if (first) {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = FloatVector.zero(FS);
        } else {
            c00 = FloatVector.fromArray(FS, c, co);
            c01 = FloatVector.fromArray(FS, c, co + L);
            c10 = FloatVector.fromArray(FS, c, co + ldc);
            c11 = FloatVector.fromArray(FS, c, co + ldc + L);
            c20 = FloatVector.fromArray(FS, c, co + 2 * ldc);
            c21 = FloatVector.fromArray(FS, c, co + 2 * ldc + L);
            c30 = FloatVector.fromArray(FS, c, co + 3 * ldc);
            c31 = FloatVector.fromArray(FS, c, co + 3 * ldc + L);
            c40 = FloatVector.fromArray(FS, c, co + 4 * ldc);
            c41 = FloatVector.fromArray(FS, c, co + 4 * ldc + L);
            c50 = FloatVector.fromArray(FS, c, co + 5 * ldc);
            c51 = FloatVector.fromArray(FS, c, co + 5 * ldc + L);
        }
        for (int pb = bo, q = 0; q < kl; pb += NR, q++) {
            FloatVector b0 = FloatVector.fromArray(FS, wf, pb);
            FloatVector b1 = FloatVector.fromArray(FS, wf, pb + L);
            FloatVector a = FloatVector.broadcast(FS, x[x0 + q]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(FS, x[x1 + q]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(FS, x[x2 + q]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(FS, x[x3 + q]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(FS, x[x4 + q]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(FS, x[x5 + q]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc);
        c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc);
        c51.intoArray(c, co + 5 * ldc + L);
    }
}
