package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cpu.CpuTensor;

/**
 * A Linear weight w[m, k] (the Hugging Face layout: one row per output) repacked for the
 * outer-product kernels of {@link PackedGemm}: panels of {@link #NR} = 2L output columns, each
 * stored k-major, so for every k the panel's weights are contiguous and load as two vectors.
 * Layout: {@code [panel][k][NR]}, panel p holding outputs [p * NR, p * NR + NR); the last panel is
 * padded with zeros past m (those outputs are computed and never stored).
 *
 * <p>F32 and F16 panel rows hold outputs in order. BF16 rows hold them pairwise: position 2c is
 * output c and 2c + 1 is output L + c, so one load of 2L patterns read as L 32-bit lanes widens to
 * both vectors exactly, the first by a 16-bit shift, the second by masking the low half. The
 * 16-bit types keep their patterns ({@link #bits}), so the packed copy is as large as the
 * checkpoint's tensor; F32 is packed as floats ({@link #f32}). Immutable once built.
 */
final class PackedWeight {

    /** Output columns per panel: two vectors. */
    static final int NR = 2 * Gemm.L;

    private final int m;
    private final int k;
    private final DType dtype;
    private final float[] f32;
    private final short[] bits;

    private PackedWeight(int m, int k, DType dtype, float[] f32, short[] bits) {
        this.m = m;
        this.k = k;
        this.dtype = dtype;
        this.f32 = f32;
        this.bits = bits;
    }

    /** Packs w[m, k] (any CPU storage), the panels [0, panels) split over {@code pool}'s threads. */
    static PackedWeight pack(CpuTensor w, WorkerPool pool) {
        int[] shape = w.shape();
        if (shape.length != 2) {
            throw new IllegalArgumentException("a matmul weight must be 2-D [out, in], got " + w);
        }
        int m = shape[0];
        int k = shape[1];
        int panels = panels(m);
        long size = (long) panels * NR * k;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("weight " + w + " is too large to pack into one array");
        }
        boolean f32 = w.isF32();
        boolean pairwise = w.dtype() == DType.BF16;
        int half = NR / 2;
        float[] f = f32 ? new float[(int) size] : null;
        short[] b = f32 ? null : new short[(int) size];
        WorkerPool.Body body = (p0, p1) -> {
            float[] rowF = f32 ? new float[k] : null;
            short[] rowB = f32 ? null : new short[k];
            for (int p = p0; p < p1; p++) {
                int base = p * NR * k;
                for (int c = 0; c < NR && p * NR + c < m; c++) {
                    long row = (long) (p * NR + c) * k;
                    int at = pairwise ? (c < half ? 2 * c : 2 * (c - half) + 1) : c;
                    if (f32) {
                        w.getRange(row, rowF, 0, k);
                        for (int q = 0; q < k; q++) {
                            f[base + q * NR + at] = rowF[q];
                        }
                    } else {
                        w.getBits(row, rowB, 0, k);
                        for (int q = 0; q < k; q++) {
                            b[base + q * NR + at] = rowB[q];
                        }
                    }
                }
            }
        };
        if (pool == null) {
            body.run(0, panels);
        } else {
            pool.forChunks(panels, pool.grainFor(panels, 1), body);
        }
        return new PackedWeight(m, k, w.dtype(), f, b);
    }

    static int panels(int m) {
        return (m + NR - 1) / NR;
    }

    int rows() {
        return m;
    }

    int cols() {
        return k;
    }

    int panels() {
        return panels(m);
    }

    DType dtype() {
        return dtype;
    }

    boolean isF32() {
        return f32 != null;
    }

    /** F32 panels, {@code [panel][k][NR]}; only when {@link #isF32()}. */
    float[] f32() {
        return f32;
    }

    /** F16/BF16 bit patterns, {@code [panel][k][NR]}; only when not {@link #isF32()}. */
    short[] bits() {
        return bits;
    }

    /** Offset of panel p's row q (its NR weights for input q). */
    int offset(int p, int q) {
        return (p * k + q) * NR;
    }
}
