package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.kernels.cpu.Checks;
import io.sparkmm.kernels.cpu.CpuBackendBase;
import io.sparkmm.kernels.cpu.CpuKvCache;
import io.sparkmm.kernels.cpu.CpuTensor;
import io.sparkmm.kernels.cpu.ScalarMath;
import jdk.incubator.vector.FloatVector;

import java.nio.ByteBuffer;


/**
 * The fast CPU backend: {@code jdk.incubator.vector} kernels on a fixed pool of threads, over
 * the same {@link CpuTensor} storage as the reference backend, so tensors move freely between
 * the two. Loaded reflectively by {@link io.sparkmm.kernels.Backends} (public (int) constructor).
 *
 * <p>Work is split over rows, heads or output columns, never inside one output element's
 * reduction, so results are the same for every thread count and batch size.
 */
public final class VectorBackend extends CpuBackendBase {

    /** Below this many multiply-adds (or elements) an op runs on the caller's thread: a hand-off costs more. */
    private static final long PARALLEL_WORK = 1L << 15;
    /**
     * Fewer panels than this per thread (all weights of a call together) and a blocked matmul splits
     * its rows over the threads instead: one-panel chunks re-read x and copy it for one panel each
     * (measured on a 128-wide k_proj alone with 2 threads: 0.84-0.90x ORT split by panels).
     */
    private static final int ROW_SPLIT_PANELS = 8;

    /**
     * {@code -Dsparkmm.simd.gemm} (read when a backend is made) picks the matmul kernels:
     * {@code packed} (the default) the outer-product kernels over weights repacked into panels
     * ({@link PackedGemm}); {@code dot} the dot-product kernels before them (each weight row
     * streamed, {@link StreamGemm} and {@link Gemm}); {@code legacy} the dot-product tiles and
     * thread hand-off before those (no cache blocking, F16/BF16 read from their mapped buffers, one
     * matmul per weight, the calling thread waiting). Each is batch-invariant; {@code dot} and
     * {@code legacy} give identical bits, {@code packed} sums in another order (one FMA chain
     * per element instead of lane-wise partial sums), so its tokens can differ from theirs in
     * the last bits of a logit. They exist so benchmarks can measure before against after in one build.
     */
    public static final String GEMM_PROPERTY = "sparkmm.simd.gemm";
    /** Up to this many activation rows, a matmul streams each weight row once ({@link StreamGemm}). */
    static final int STREAM_MAX_ROWS = 4;

    private final WorkerPool pool;
    private final boolean legacy;
    private final boolean packed;

    public VectorBackend(int threads) {
        String gemm = System.getProperty(GEMM_PROPERTY, "packed");
        if (!gemm.equals("packed") && !gemm.equals("dot") && !gemm.equals("legacy")) {
            throw new IllegalArgumentException("-D" + GEMM_PROPERTY + " must be packed, dot or legacy, got '" + gemm + "'");
        }
        this.legacy = gemm.equals("legacy");
        this.packed = gemm.equals("packed");
        this.pool = new WorkerPool(threads, !legacy, packed);
    }

    @Override
    public String name() {
        int t = pool.threads();
        return "simd(" + t + (t == 1 ? " thread" : " threads") + ", " + FloatVector.SPECIES_PREFERRED.length()
                + " lanes" + (packed ? "" : legacy ? ", legacy gemm" : ", dot gemm") + ")";
    }

    /**
     * With packed kernels a weight stays where it is (F16/BF16 possibly mapped) and its first
     * matmul makes the panel copy on the heap; the dot kernels load F16/BF16 rows from a heap copy.
     */
    @Override
    public Tensor weight(DType dtype, ByteBuffer littleEndian, int... shape) {
        return packed || legacy ? CpuTensor.raw(dtype, littleEndian, shape) : CpuTensor.rawOnHeap(dtype, littleEndian, shape);
    }

    // ---------------------------------------------------------------- storage

    @Override
    protected void decodeRange(CpuTensor src, long start, float[] dst, int dstOff, int count) {
        Decode.range(src, start, dst, dstOff, count);
    }

    // ---------------------------------------------------------------- ops

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        matmuls(x, new Tensor[] {w}, new Tensor[] {bias}, new Tensor[] {out});
    }

    /**
     * All weights' output columns as one range split over the threads: a chunk may span two
     * weights. Every element is still computed by the one kernel its own matmul would use.
     */
    @Override
    public void matmuls(Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        if (legacy && ws.length > 1) {
            super.matmuls(x, ws, biases, outs);
            return;
        }
        if (packed) {
            packedMatmuls(x, ws, biases, outs);
            return;
        }
        Operands o = operands(x, ws, biases, outs);
        int n = o.n();
        int k = o.k();
        CpuTensor[] wt = new CpuTensor[ws.length];
        int[] starts = new int[ws.length + 1];
        boolean stream = !legacy && n <= STREAM_MAX_ROWS;
        for (int i = 0; i < ws.length; i++) {
            wt[i] = CpuTensor.of(ws[i]);
            starts[i + 1] = starts[i] + wt[i].rows();
            stream &= wt[i].isF32() || wt[i].hasBits();
        }
        int m = starts[ws.length];
        boolean streaming = stream;
        // Split over output columns: each thread streams (and decodes) only its own weight rows.
        int grain = (long) n * m * k < PARALLEL_WORK ? m : pool.grainFor(m, streaming ? 1 : Gemm.COLS);
        forParts(starts, grain, (i, j0, j1) -> {
            int mi = wt[i].rows();
            if (streaming) {
                StreamGemm.columns(o.x(), n, k, wt[i], o.bias()[i], o.out()[i], mi, j0, j1);
            } else if (legacy) {
                Gemm.columnsUnblocked(o.x(), n, k, wt[i], o.bias()[i], o.out()[i], mi, j0, j1);
            } else {
                Gemm.columns(o.x(), n, k, wt[i], o.bias()[i], o.out()[i], mi, j0, j1);
            }
        });
    }

    /**
     * {@link #matmuls} over packed weights: all weights' panels as one range split over the
     * threads. A weight is packed on its first matmul and kept with it; a tensor that is not a
     * weight (its values may change) is packed for this call only.
     */
    private void packedMatmuls(Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        Operands o = operands(x, ws, biases, outs);
        int n = o.n();
        int k = o.k();
        PackedWeight[] pw = new PackedWeight[ws.length];
        int[] starts = new int[ws.length + 1];
        long work = 0;
        for (int i = 0; i < ws.length; i++) {
            CpuTensor w = CpuTensor.of(ws[i]);
            pw[i] = w.isWeight() ? w.derived(PackedWeight.class, t -> PackedWeight.pack(t, pool))
                    : PackedWeight.pack(w, pool);
            starts[i + 1] = starts[i] + pw[i].panels();
            work += (long) n * k * pw[i].rows();
        }
        int panels = starts[ws.length];
        boolean small = n <= PackedGemm.SMALL_ROWS;
        int threads = pool.threads();
        int tiles = ceil(n, PackedGemm.MR);
        if (!small && work >= PARALLEL_WORK && threads > 1 && panels < ROW_SPLIT_PANELS * threads && tiles >= threads) {
            // too few panels for every thread to get a good share: split the rows instead, each
            // thread taking every panel (the weight is read once per thread, from cache)
            pool.forChunks(tiles, ceil(tiles, 2 * threads), (t0, t1) -> {
                for (int i = 0; i < ws.length; i++) {
                    PackedGemm.blocked(o.x(), n, k, pw[i], o.bias()[i], o.out()[i], pw[i].rows(),
                            t0 * PackedGemm.MR, Math.min(n, t1 * PackedGemm.MR), 0, pw[i].panels());
                }
            });
            return;
        }
        // Split over panels: each thread reads (and widens) only its own panels. Decode-sized ops take
        // one equal chunk per thread (at least a kernel's group of panels: a short group computes
        // its last panel again, from cache); larger ones two per thread, so a thread slowed by other
        // load can be helped out. Measured here, both beat many small chunks (claims, re-reads of x).
        int grain = work < PARALLEL_WORK ? panels
                : small ? Math.max(PackedGemm.panelGroup(n), ceil(panels, threads))
                : ceil(panels, 2 * threads);
        forParts(starts, grain, (i, p0, p1) -> {
            if (small) {
                PackedGemm.small(o.x(), n, k, pw[i], o.bias()[i], o.out()[i], pw[i].rows(), p0, p1);
            } else {
                PackedGemm.blocked(o.x(), n, k, pw[i], o.bias()[i], o.out()[i], pw[i].rows(), 0, n, p0, p1);
            }
        });
    }

    /** A matmuls call's checked operands: x [n, k] and each part's decoded bias (or null) and output. */
    private record Operands(float[] x, int n, int k, float[][] bias, float[][] out) {
    }

    private static Operands operands(Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        CpuTensor xs = CpuTensor.of(x);
        float[][] bias = new float[ws.length][];
        float[][] out = new float[ws.length][];
        for (int i = 0; i < ws.length; i++) {
            Tensor b = biases == null ? null : biases[i];
            Checks.matmul(x, ws[i], b, outs[i]);
            bias[i] = b == null ? null : Decode.all(CpuTensor.of(b));
            out[i] = CpuTensor.of(outs[i]).data();
        }
        return new Operands(xs.data(), xs.rows(), xs.cols(), bias, out);
    }

    /** The work of one part (one weight) over its own units [from, to). */
    private interface PartBody {
        void run(int part, int from, int to);
    }

    /**
     * Units [0, starts[parts]) (columns or panels of all the weights, weight i holding
     * [starts[i], starts[i + 1])) in chunks of {@code grain} over the threads; a chunk that
     * spans weights runs each weight's share in that weight's own units.
     */
    private void forParts(int[] starts, int grain, PartBody body) {
        int parts = starts.length - 1;
        pool.forChunks(starts[parts], grain, (c0, c1) -> {
            for (int i = 0; i < parts; i++) {
                int from = Math.max(c0, starts[i]) - starts[i];
                int to = Math.min(c1, starts[i + 1]) - starts[i];
                if (from < to) {
                    body.run(i, from, to);
                }
            }
        });
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public void rmsNorm(Tensor x, Tensor w, float eps, Tensor out) {
        CpuTensor xs = CpuTensor.of(x);
        CpuTensor os = CpuTensor.of(out);
        int d = xs.cols();
        CpuTensor wt = CpuTensor.of(w);
        Checks.equal("rmsNorm weight length", wt.size(), d);
        Checks.sameShape("rmsNorm", xs, os);
        float[] wd = Decode.all(wt);
        float[] xd = xs.data();
        float[] od = os.data();
        rows(xs.rows(), d, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                RowKernels.rmsNorm(xd, wd, eps, od, i * d, d);
            }
        });
    }

    @Override
    public void layerNorm(Tensor x, Tensor w, Tensor b, float eps, Tensor out) {
        CpuTensor xs = CpuTensor.of(x);
        CpuTensor os = CpuTensor.of(out);
        CpuTensor wt = CpuTensor.of(w);
        CpuTensor bt = CpuTensor.of(b);
        int d = xs.cols();
        Checks.equal("layerNorm weight length", wt.size(), d);
        Checks.equal("layerNorm bias length", bt.size(), d);
        Checks.sameShape("layerNorm", xs, os);
        float[] wd = Decode.all(wt);
        float[] bd = Decode.all(bt);
        float[] xd = xs.data();
        float[] od = os.data();
        rows(xs.rows(), d, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                RowKernels.layerNorm(xd, wd, bd, eps, od, i * d, d);
            }
        });
    }

    @Override
    public void rope(Tensor x, RopePositions positions, int heads, int headDim, float[] invFreq, float scale) {
        CpuTensor xs = CpuTensor.of(x);
        int n = xs.rows();
        Checks.equal("rope positions", positions.rows(), n);
        Checks.equal("rope cols", xs.cols(), (long) heads * headDim);
        int half = headDim / 2;
        Checks.equal("rope invFreq length", invFreq.length, half);
        int[] section = positions.sectionOfEachFrequency(headDim);
        float[] xd = xs.data();
        int cols = xs.cols();
        rows(n, cols, (i0, i1) -> {
            float[] cos = new float[half];
            float[] sin = new float[half];
            for (int i = i0; i < i1; i++) {
                for (int f = 0; f < half; f++) {
                    float angle = (float) positions.position(section[f], i) * invFreq[f];
                    cos[f] = (float) Math.cos(angle) * scale;
                    sin[f] = (float) Math.sin(angle) * scale;
                }
                RowKernels.rope(xd, i * cols, heads, headDim, cos, sin);
            }
        });
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        float[] g = CpuTensor.of(gate).data();
        float[] u = CpuTensor.of(up).data();
        float[] o = CpuTensor.of(out).data();
        Checks.equal("siluMul lengths", g.length, u.length);
        Checks.equal("siluMul out length", g.length, o.length);
        // exp dominates and stays scalar (see RowKernels); the win here is the threads
        elements(g.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                float v = g[i];
                o[i] = v / (1f + (float) Math.exp(-v)) * u[i];
            }
        });
    }

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {
        float[] a = CpuTensor.of(x).data();
        float[] o = CpuTensor.of(out).data();
        Checks.equal("activation out length", a.length, o.length);
        elements(a.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                o[i] = ScalarMath.activate(act, a[i]);
            }
        });
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        CpuTensor xs = CpuTensor.of(x);
        CpuTensor os = CpuTensor.of(out);
        Checks.sameShape("softmax", xs, os);
        int d = xs.cols();
        float[] xd = xs.data();
        float[] od = os.data();
        rows(xs.rows(), d, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                RowKernels.softmax(xd, od, i * d, d);
            }
        });
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor out,
                          int heads, int kvHeads, int headDim, float scale, boolean causal) {
        CpuTensor qs = CpuTensor.of(q);
        CpuTensor ks = CpuTensor.of(k);
        CpuTensor vs = CpuTensor.of(v);
        CpuTensor os = CpuTensor.of(out);
        Checks.attention(qs, ks, vs, os, heads, kvHeads, headDim);
        int n = qs.rows();
        AttentionKernel kernel = new AttentionKernel(qs.data(), ks.data(), vs.data(), os.data(), n,
                heads, kvHeads, headDim, scale, causal);
        int pairs = heads * n;
        long work = (long) pairs * n * headDim;
        int grain = work < PARALLEL_WORK ? pairs : pool.grainFor(pairs, 1);
        pool.forChunks(pairs, grain, kernel::pairs);
    }

    @Override
    public void pagedAttention(Tensor q, Tensor k, Tensor v, KvCache cache, int layer, PagedBatch batch, Tensor out,
                               int heads, int kvHeads, int headDim, float scale) {
        CpuTensor qs = CpuTensor.of(q);
        CpuTensor os = CpuTensor.of(out);
        CpuKvCache kv = CpuKvCache.of(cache);
        Checks.pagedAttention(qs, k, v, os, kv, layer, batch, heads, kvHeads, headDim);
        // All new K/V go in before any query reads: a chunk's rows attend to each other through
        // the cache. Plain copies, small next to the attention itself, so on this thread.
        kv.writeAll(layer, batch, CpuTensor.of(k).data(), CpuTensor.of(v).data());
        PagedAttentionKernel kernel = new PagedAttentionKernel(qs.data(), os.data(), kv, layer, batch,
                heads, kvHeads, headDim, scale);
        int items = kernel.items();
        int grain = kernel.work() < PARALLEL_WORK ? items : pool.grainFor(items, 1);
        pool.forChunks(items, grain, kernel::items);
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        CpuTensor ts = CpuTensor.of(table);
        CpuTensor os = CpuTensor.of(out);
        int d = ts.cols();
        Checks.equal("embedding out cols", os.cols(), d);
        Checks.equal("embedding out rows", os.rows(), ids.length);
        for (int id : ids) {
            Checks.tokenId(id, ts.rows());
        }
        float[] od = os.data();
        for (int i = 0; i < ids.length; i++) {
            Decode.range(ts, (long) ids[i] * d, od, i * d, d);
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        float[] x = CpuTensor.of(a).data();
        float[] y = CpuTensor.of(b).data();
        float[] o = CpuTensor.of(out).data();
        Checks.equal("add lengths", x.length, y.length);
        Checks.equal("add out length", x.length, o.length);
        elements(x.length, (from, to) -> RowKernels.add(x, y, o, from, to));
    }

    @Override
    public int[] argmax(Tensor x) {
        CpuTensor xs = CpuTensor.of(x);
        int n = xs.rows();
        int d = xs.cols();
        float[] xd = xs.data();
        int[] best = new int[n];
        rows(n, d, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int off = i * d;
                int b = 0;
                for (int j = 1; j < d; j++) {
                    if (xd[off + j] > xd[off + b]) {
                        b = j;
                    }
                }
                best[i] = b;
            }
        });
        return best;
    }

    @Override
    public void close() {
        pool.close();
        closeCaches();
    }

    /** Rows [0, n) of width cols, split over threads when there is enough work. */
    private void rows(int n, int cols, WorkerPool.Body body) {
        int grain = (long) n * cols < PARALLEL_WORK ? n : pool.grainFor(n, 1);
        pool.forChunks(n, grain, body);
    }

    /** Independent elements [0, len), split over threads when there are many. */
    private void elements(int len, WorkerPool.Body body) {
        int grain = len < PARALLEL_WORK ? len : pool.grainFor(len, 1024);
        pool.forChunks(len, grain, body);
    }
}
