package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * out[n, m] = x[n, k] @ w[m, k]^T + bias over a {@link PackedWeight}: outer-product tiles, each
 * k step broadcasting one activation per row against a panel's two vectors of weights.
 *
 * <p>Batch invariance: every output element is one sequential FMA chain over k in index order,
 * starting from +0 ({@code s = fma(x[i, q], w[j, q], s)} for q = 0, 1, ..., k - 1), then
 * {@code s + bias[j]}. A vector lane holds one element's chain, tiles only share loads, and
 * k blocking stores a chain and resumes it from the stored float, which rounds nothing. So an
 * element's bits do not depend on n, on the kernel (decode or blocked), on the tile or on the
 * thread, and {@link Math#fma} in a loop restates the contract exactly (the kernel tests' oracle).
 *
 * <p>Up to {@link #SMALL_ROWS} rows (decode) read the weight once, straight from the packed
 * panels, 16-bit weights widened in registers. More rows run GotoBLAS-style: the weight taken in
 * blocks of {@link #KC} k by {@link #NC} panels (sized for L2) and an {@link #MR} x NR register
 * tile per MR rows and panel. F32 tiles read x in place: MR row streams broadcast well from L1.
 * A block of 16-bit weights is either widened in registers by every tile, which then reads its MR
 * rows of x copied at the constant row stride KC (read in place, at row stride k unknown to the
 * JIT, the eight row offsets spilled next to the widening and BF16 ran about 10% under F32 from 8
 * to 64 rows), or decoded once to F32 for the F32 tiles: whichever copies fewer floats, x's rows
 * (tiles x MR per k) or the block's weights (panels x NR per k). Many panels over few rows (decode
 * steps, a thread's share of a wide weight) copy x; few panels over many rows (a narrow weight
 * split over threads, long prefill) decode; each measured at or above the other on its side.
 */
final class PackedGemm {

    private static final VectorSpecies<Float> FS = Gemm.FS;
    private static final int L = Gemm.L;
    private static final int NR = PackedWeight.NR;
    /**
     * Rows per register tile of one panel: 2 MR accumulators, 16 of AVX-512's 32 registers or 12 of
     * AVX2's 16. (Six rows by two panels, 24 accumulators, measured faster alone and slower in the
     * GEMM, and wastes more on row edges.)
     */
    static final int MR = L >= 16 ? 8 : 6;
    /** Up to this many rows a matmul reads the packed weight directly, once. */
    static final int SMALL_ROWS = 4;
    /** k per block: MR rows of x (KC x MR floats) stay in L1 while a block of panels streams from L2. */
    static final int KC = 256;
    /** Panels per block: KC x NC x NR floats (256 KiB with AVX-512) stay in L2. */
    static final int NC = 8;
    static final int F32 = 0;
    static final int BF16 = 1;
    static final int F16 = 2;

    private PackedGemm() {
    }

    /**
     * Panels [p0, p1) of w for rows [0, n), n &lt;= SMALL_ROWS: each weight read once, in groups
     * of panels (four for one row, two for more: enough chains in flight to hide the FMA
     * latency). A short last group repeats its last panel: computed twice, stored once.
     */
    static void small(float[] x, int n, int k, PackedWeight w, float[] bias, float[] out, int m, int p0, int p1) {
        int kind = kind(w);
        float[] wf = w.f32();
        short[] wb = w.bits();
        int group = panelGroup(n);
        float[] tile = new float[SMALL_ROWS * 8 * L];
        int[] o = new int[4];
        // three rows run as four, row 2 twice: the chains are per row, so its bits are unchanged
        int last = n == 3 ? 2 : 3;
        for (int g0 = p0; g0 < p1; g0 += group) {
            int count = Math.min(group, p1 - g0);
            for (int v = 0; v < group; v++) {
                o[v] = w.offset(g0 + Math.min(v, count - 1), 0);
            }
            if (kind == F32) {
                if (n == 1) {
                    PackedKernels.row1(x, k, wf, o[0], o[1], o[2], o[3], tile);
                } else if (n == 2) {
                    PackedKernels.rows2(x, k, wf, o[0], o[1], tile);
                } else {
                    PackedKernels.rows4(x, k, last, wf, o[0], o[1], tile);
                }
            } else if (n == 1) {
                PackedWideKernels.row1(x, k, kind, wb, o[0], o[1], o[2], o[3], tile);
            } else if (n == 2) {
                PackedWideKernels.rows2(x, k, kind, wb, o[0], o[1], tile);
            } else {
                PackedWideKernels.rows4(x, k, last, kind, wb, o[0], o[1], tile);
            }
            int j0 = g0 * NR;
            int cols = Math.min(count * NR, m - j0);
            for (int r = 0; r < n; r++) {
                int t = r * 8 * L;
                int oo = r * m + j0;
                for (int c = 0; c < cols; c++) {
                    out[oo + c] = bias == null ? tile[t + c] : tile[t + c] + bias[j0 + c];
                }
            }
        }
    }

    /** Panels the decode kernel for n rows takes at once (n &lt;= SMALL_ROWS). */
    static int panelGroup(int n) {
        return n == 1 ? 4 : 2;
    }

    /**
     * Panels [p0, p1) of w for rows [r0, r1) of x (n rows in all), blocked over k and panels. A
     * thread's share is a range of panels, or of rows when a weight has too few panels to split.
     */
    static void blocked(float[] x, int n, int k, PackedWeight w, float[] bias, float[] out, int m,
                        int r0, int r1, int p0, int p1) {
        if (r0 < 0 || r1 > n || r0 > r1) {
            throw new IllegalArgumentException("rows [" + r0 + ", " + r1 + ") outside [0, " + n + ")");
        }
        int tiles = (r1 - r0 + MR - 1) / MR;
        if (k == 0) {
            for (int i = r0; i < r1; i++) {
                for (int j = p0 * NR; j < Math.min(m, p1 * NR); j++) {
                    out[i * m + j] = bias == null ? 0f : 0f + bias[j];
                }
            }
            return;
        }
        int wide = kind(w);
        // this thread's scratch (a fresh array per call ran about 12% slower on one-panel chunks):
        // x's rows copied at the constant stride KC, an MR x NR edge tile, a block of decoded weights
        float[] scratch = Gemm.scratch(MR * KC + MR * NR + NC * KC * NR);
        int edge = MR * KC;
        int decoded = edge + MR * NR;
        short[] wb = w.bits();
        for (int pb = p0; pb < p1; pb += NC) {
            int pe = Math.min(p1, pb + NC);
            // 16-bit weights: decode the block once when that is less work than copying x per tile
            boolean decode = wide != F32 && (pe - pb) * NR < tiles * MR;
            int kind = decode ? F32 : wide;
            float[] wf = decode ? scratch : w.f32();
            float[] xp = kind == F32 ? null : scratch;
            for (int kb = 0; kb < k; kb += KC) {
                int kl = Math.min(KC, k - kb);
                boolean first = kb == 0;
                for (int p = pb; decode && p < pe; p++) {
                    decodePanel(wide, wb, w.offset(p, kb), kl, scratch, decoded + (p - pb) * kl * NR);
                }
                for (int t = 0; t < tiles; t++) {
                    int i0 = r0 + t * MR;
                    int rows = Math.min(MR, r1 - i0);
                    for (int r = 0; xp != null && r < rows; r++) {
                        System.arraycopy(x, (i0 + r) * k + kb, xp, r * KC, kl);
                    }
                    int xo = i0 * k + kb;
                    for (int p = pb; p < pe; p++) {
                        int bo = decode ? decoded + (p - pb) * kl * NR : w.offset(p, kb);
                        int j0 = p * NR;
                        int cols = Math.min(NR, m - j0);
                        if (rows == MR && cols == NR) {
                            tile(x, xp, xo, k, rows - 1, kind, wf, wb, bo, kl, out, i0 * m + j0, m, first);
                            continue;
                        }
                        // an edge tile runs in scratch: the kernel always writes MR x NR (sums of rows
                        // past n are dropped here)
                        if (!first) {
                            for (int r = 0; r < rows; r++) {
                                System.arraycopy(out, (i0 + r) * m + j0, scratch, edge + r * NR, cols);
                            }
                        }
                        tile(x, xp, xo, k, rows - 1, kind, wf, wb, bo, kl, scratch, edge, NR, first);
                        for (int r = 0; r < rows; r++) {
                            System.arraycopy(scratch, edge + r * NR, out, (i0 + r) * m + j0, cols);
                        }
                    }
                }
            }
            if (bias != null) {
                int j1 = Math.min(m, pe * NR);
                for (int i = r0; i < r1; i++) {
                    for (int j = pb * NR; j < j1; j++) {
                        out[i * m + j] += bias[j];
                    }
                }
            }
        }
    }

    private static int kind(PackedWeight w) {
        if (w.isF32()) {
            return F32;
        }
        return w.dtype() == DType.BF16 ? BF16 : F16;
    }

    /** kl rows of a 16-bit panel from o, widened into dst[d..] as plain F32 panel rows. */
    private static void decodePanel(int kind, short[] wb, int o, int kl, float[] dst, int d) {
        for (int q = 0; q < kl; q++, o += NR, d += NR) {
            PackedWideKernels.lo(kind, wb, o).intoArray(dst, d);
            PackedWideKernels.hi(kind, wb, o).intoArray(dst, d + L);
        }
    }

    /**
     * The MR x NR register tile for the weights' dtype; see {@link PackedKernels#tile8x1}. F32 reads
     * x's rows in place from xo (row stride k, rows past last repeat it), 16-bit their copy in xp from xo.
     */
    private static void tile(float[] x, float[] xp, int xo, int k, int last, int kind, float[] wf, short[] wb,
                             int bo, int kl, float[] c, int co, int ldc, boolean first) {
        if (kind == F32) {
            if (MR == 8) {
                PackedKernels.tile8x1(x, xo, k, last, wf, bo, kl, c, co, ldc, first);
            } else {
                PackedKernels.tile6x1(x, xo, k, last, wf, bo, kl, c, co, ldc, first);
            }
        } else if (MR == 8) {
            PackedWideKernels.tile8x1(xp, kind, wb, bo, kl, c, co, ldc, first);
        } else {
            PackedWideKernels.tile6x1(xp, kind, wb, bo, kl, c, co, ldc, first);
        }
    }
}
