package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.MemoryBudget;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.kernels.cpu.Checks;
import io.sparkmm.kernels.cuda.CudaApi.KernelArg;
import io.sparkmm.kernels.cuda.LaunchGeometry.Launch;

import java.nio.ByteBuffer;

import static io.sparkmm.kernels.cuda.CudaApi.KernelArg.f32;
import static io.sparkmm.kernels.cuda.CudaApi.KernelArg.i32;
import static io.sparkmm.kernels.cuda.CudaApi.KernelArg.i64;
import static io.sparkmm.kernels.cuda.CudaApi.KernelArg.ptr;

/**
 * Device "cuda:N": every op runs as one of the ABI kernels ({@code sparkmm_kernels.h}) on device
 * N, through {@link CudaApi}.
 *
 * <p><b>What runs where.</b> Activations are F32 {@link CudaTensor}s in device memory; weights are
 * uploaded once, as stored (F32, BF16 or F16), and widened inside the kernels; the KV pool
 * ({@link CudaKvCache}) lives on the device in F32, BF16 or F16. The host only checks shapes,
 * computes launch geometry ({@link LaunchGeometry}), flattens a {@link PagedBatch} into int
 * arrays ({@link DeviceBatch}) and uploads them, with rope positions and tables, per call into
 * reused scratch. All work is queued on this backend's one stream in the device's primary context
 * (shared with any other CUDA user in the JVM); ops are serialized by this object's lock.
 *
 * <p><b>What the host sees.</b> Only what it downloads: {@link #download} and {@link #argmax}
 * copy to the host and wait for the stream; nothing else synchronizes except frees (which wait
 * for queued kernels that may still read the memory). An engine that downloads only the last
 * hidden rows (or the argmax ids) moves a few KB per decode step.
 *
 * <p><b>Errors.</b> A refused driver call is a {@link CudaException} naming the op and shapes.
 * Kernel faults are asynchronous: they surface at the next synchronizing call, under its name.
 *
 * <p><b>Not done yet.</b> No cuBLAS: matmul is the ABI's own tiled kernel (batch invariant by
 * construction, slower than cuBLASLt for large prefills); no CUDA graphs for decode; no pinned
 * host buffers (uploads and downloads go through pageable memory, staged by the driver); no
 * stream-ordered allocator (each tensor is a cuMemAlloc, each free waits for the stream); one
 * device per backend, no tensor parallelism; no overlap of host and device work across ops.
 */
public final class CudaBackend implements Backend {

    private final CudaDevice dev;
    private final GpuMemoryUtilization utilization;
    private boolean closed;

    /** Retains device {@code device}'s primary context, makes a stream and loads the kernels. */
    public CudaBackend(CudaApi api, int device, byte[] kernels, GpuMemoryUtilization utilization) {
        this.utilization = utilization;
        this.dev = new CudaDevice(api, device, kernels);
    }

    @Override
    public String name() {
        return dev.name;
    }

    private void enter() {
        if (closed) {
            throw new IllegalStateException("backend " + dev.name + " was closed");
        }
        dev.makeCurrent();
    }

    private CudaTensor of(Tensor t, String op) {
        return CudaTensor.owned(t, this, op);
    }

    private CudaTensor act(Tensor t, String op) {
        return CudaTensor.activation(t, this, op);
    }

    private static KernelArg at(CudaTensor t) {
        return ptr(t.pointer());
    }

    private static KernelArg dtype(CudaTensor t) {
        return i32(Kernel.dtypeCode(t.dtype()));
    }

    private synchronized CudaTensor allocate(DType dtype, int[] shape, String what) {
        long bytes = CudaTensor.checkedSize(shape) * dtype.bytes();
        return new CudaTensor(this, dev.memory.allocate(bytes, what + " " + Tensor.describe(shape) + " " + dtype), shape, dtype);
    }

    /** Frees a tensor's memory; called by {@link CudaTensor#close()}. */
    synchronized void release(long pointer) {
        if (!closed) {
            dev.makeCurrent();
            dev.memory.free(pointer);
        }
    }

    @Override
    public synchronized Tensor zeros(int... shape) {
        enter();
        CudaTensor t = allocate(DType.F32, shape, "zeros");
        dev.fill(t.pointer(), t.bytes(), "zeros " + t);
        return t;
    }

    @Override
    public synchronized Tensor upload(float[] data, int... shape) {
        enter();
        if (data.length != CudaTensor.checkedSize(shape)) {
            throw new IllegalArgumentException("data length " + data.length + " does not match shape " + Tensor.describe(shape));
        }
        CudaTensor t = allocate(DType.F32, shape, "upload");
        ByteBuffer b = CudaDevice.host(t.bytes());
        b.asFloatBuffer().put(data);
        dev.copyIn(t.pointer(), b, t.bytes(), "upload " + t);
        return t;
    }

    @Override
    public synchronized Tensor weight(DType dtype, ByteBuffer littleEndian, int... shape) {
        enter();
        long expected = CudaTensor.checkedSize(shape) * dtype.bytes();
        if (littleEndian.remaining() != expected) {
            throw new IllegalArgumentException("weight of shape " + Tensor.describe(shape) + " in " + dtype + " needs "
                    + expected + " bytes, got " + littleEndian.remaining());
        }
        CudaTensor t = allocate(dtype, shape, "weight");
        dev.copyIn(t.pointer(), littleEndian.duplicate(), expected, "weight " + t);
        return t;
    }

    private void toF32(CudaTensor src, long from, long dst, long count, String what) {
        dev.widen(src.pointer() + from * src.dtype().bytes(), src.dtype(), dst, count, what);
    }

    @Override
    public synchronized float[] download(Tensor t) {
        enter();
        CudaTensor c = of(t, "download");
        return dev.downloadF32(c.pointer(), c.dtype(), c.size(), "download " + c);
    }

    @Override
    public synchronized void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int count) {
        enter();
        CudaTensor s = of(src, "copyRows");
        CudaTensor d = act(dst, "copyRows");
        int cols = s.cols();
        Checks.equal("copyRows cols", cols, d.cols());
        Checks.rowRange("copyRows source", s, srcRow, count);
        Checks.rowRange("copyRows destination", d, dstRow, count);
        long elements = (long) count * cols;
        long to = d.pointer() + (long) dstRow * cols * 4;
        if (elements == 0) {
            return;
        }
        if (s.dtype() == DType.F32) {
            dev.copy(to, s.pointer() + (long) srcRow * cols * 4, elements * 4, "copyRows " + s + " -> " + d);
        } else {
            toF32(s, (long) srcRow * cols, to, elements, "copyRows " + s + " -> " + d);
        }
    }

    @Override
    public synchronized void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        enter();
        CudaTensor xs = act(x, "matmul");
        CudaTensor ws = of(w, "matmul");
        CudaTensor os = act(out, "matmul");
        Checks.matmul(xs, ws, bias, os);
        // the ABI reads the bias as F32; a 16-bit bias is widened once and kept with the weight
        long b = bias == null ? 0 : widenedOnce(of(bias, "matmul bias")).pointer();
        int n = xs.rows();
        int k = xs.cols();
        int m = ws.rows();
        dev.launch(Kernel.MATMUL, LaunchGeometry.matmul(n, k, m), "matmul x " + Tensor.describe(xs.shape()) + " @ w "
                + Tensor.describe(ws.shape()) + " " + ws.dtype() + "^T", at(xs), at(ws), dtype(ws), ptr(b), at(os),
                i32(n), i32(k), i32(m));
    }

    private CudaTensor widenedOnce(CudaTensor t) {
        if (t.dtype() == DType.F32) {
            return t;
        }
        if (t.f32Copy() == null) {
            CudaTensor copy = allocate(DType.F32, t.shape(), "F32 copy of");
            toF32(t, 0, copy.pointer(), t.size(), "widen " + t);
            t.f32Copy(copy);
        }
        return t.f32Copy();
    }

    @Override
    public synchronized void rmsNorm(Tensor x, Tensor w, float eps, Tensor out) {
        enter();
        CudaTensor xs = act(x, "rmsNorm");
        CudaTensor ws = of(w, "rmsNorm");
        CudaTensor os = act(out, "rmsNorm");
        Checks.equal("rmsNorm weight length", ws.size(), xs.cols());
        Checks.sameShape("rmsNorm", xs, os);
        dev.launch(Kernel.RMS_NORM, LaunchGeometry.perRow(xs.rows()), "rmsNorm " + Tensor.describe(xs.shape()),
                at(xs), at(ws), dtype(ws), f32(eps), at(os), i32(xs.rows()), i32(xs.cols()));
    }

    @Override
    public synchronized void layerNorm(Tensor x, Tensor w, Tensor b, float eps, Tensor out) {
        enter();
        CudaTensor xs = act(x, "layerNorm");
        CudaTensor ws = of(w, "layerNorm");
        CudaTensor bs = of(b, "layerNorm");
        CudaTensor os = act(out, "layerNorm");
        Checks.equal("layerNorm weight length", ws.size(), xs.cols());
        Checks.equal("layerNorm bias length", bs.size(), xs.cols());
        Checks.sameShape("layerNorm", xs, os);
        // the kernel takes one dtype for both; mixed ones are read as F32 copies
        if (ws.dtype() != bs.dtype()) {
            ws = widenedOnce(ws);
            bs = widenedOnce(bs);
        }
        dev.launch(Kernel.LAYER_NORM, LaunchGeometry.perRow(xs.rows()), "layerNorm " + Tensor.describe(xs.shape()),
                at(xs), at(ws), at(bs), dtype(ws), f32(eps), at(os), i32(xs.rows()), i32(xs.cols()));
    }

    @Override
    public synchronized void rope(Tensor x, RopePositions positions, int heads, int headDim, float[] invFreq, float scale) {
        enter();
        CudaTensor xs = act(x, "rope");
        int n = xs.rows();
        Checks.equal("rope positions", positions.rows(), n);
        Checks.equal("rope cols", xs.cols(), (long) heads * headDim);
        Checks.equal("rope invFreq length", invFreq.length, headDim / 2);
        Launch g = LaunchGeometry.rope(n, heads, headDim);
        RopeTables tables = RopeTables.of(positions, headDim, invFreq);
        String what = "rope " + Tensor.describe(xs.shape()) + " (" + heads + " heads x " + headDim + ", " + positions + ")";
        long base = dev.uploadScratch("rope", tables.packed(), what);
        dev.launch(Kernel.ROPE, g, what, at(xs), ptr(base), ptr(base + tables.sectionOfOffset()),
                ptr(base + tables.invFreqOffset()), i32(n), i32(heads), i32(headDim), f32(scale));
    }

    @Override
    public synchronized void siluMul(Tensor gate, Tensor up, Tensor out) {
        enter();
        CudaTensor g = act(gate, "siluMul");
        CudaTensor u = act(up, "siluMul");
        CudaTensor o = act(out, "siluMul");
        Checks.equal("siluMul lengths", g.size(), u.size());
        Checks.equal("siluMul out length", g.size(), o.size());
        dev.launch(Kernel.SILU_MUL, LaunchGeometry.elementwise(g.size()), "siluMul " + Tensor.describe(g.shape()),
                at(g), at(u), at(o), i64(g.size()));
    }

    @Override
    public synchronized void activation(Activation act, Tensor x, Tensor out) {
        enter();
        CudaTensor xs = act(x, "activation");
        CudaTensor os = act(out, "activation");
        Checks.equal("activation out length", xs.size(), os.size());
        dev.launch(Kernel.ACTIVATION, LaunchGeometry.elementwise(xs.size()), "activation " + act + " "
                + Tensor.describe(xs.shape()), at(xs), at(os), i64(xs.size()), i32(Kernel.activationCode(act)));
    }

    @Override
    public synchronized void softmax(Tensor x, Tensor out) {
        enter();
        CudaTensor xs = act(x, "softmax");
        CudaTensor os = act(out, "softmax");
        Checks.sameShape("softmax", xs, os);
        dev.launch(Kernel.SOFTMAX, LaunchGeometry.perRow(xs.rows()), "softmax " + Tensor.describe(xs.shape()),
                at(xs), at(os), i32(xs.rows()), i32(xs.cols()));
    }

    @Override
    public synchronized void attention(Tensor q, Tensor k, Tensor v, Tensor out,
                                       int heads, int kvHeads, int headDim, float scale, boolean causal) {
        enter();
        CudaTensor qs = act(q, "attention");
        CudaTensor ks = act(k, "attention");
        CudaTensor vs = act(v, "attention");
        CudaTensor os = act(out, "attention");
        Checks.attention(qs, ks, vs, os, heads, kvHeads, headDim);
        int n = qs.rows();
        dev.launch(Kernel.ATTENTION, LaunchGeometry.attention(n, heads, headDim), "attention q " + Tensor.describe(qs.shape())
                + " (" + heads + "/" + kvHeads + " heads x " + headDim + ")", at(qs), at(ks), at(vs), at(os),
                i32(n), i32(heads), i32(kvHeads), i32(headDim), f32(scale), i32(causal ? 1 : 0));
    }

    @Override
    public synchronized KvCache allocateKvCache(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim,
                                                DType dtype) {
        enter();
        return CudaKvCache.allocate(this, dev, numLayers, numBlocks, blockSize, kvHeads, headDim, dtype, this::memoryBudget);
    }

    /** Frees a pool's memory; called by {@link CudaKvCache#close()}. */
    synchronized void release(CudaKvCache cache, long[] keys, long[] values) {
        if (!closed) {
            dev.makeCurrent();
            CudaKvCache.free(dev, keys, values);
        }
    }

    @Override
    public synchronized MemoryBudget memoryBudget() {
        enter();
        return utilization.budget("cuda:" + dev.index, dev.api.memoryInfo().free());
    }

    @Override
    public synchronized void pagedAttention(Tensor q, Tensor k, Tensor v, KvCache cache, int layer, PagedBatch batch,
                                            Tensor out, int heads, int kvHeads, int headDim, float scale) {
        enter();
        CudaTensor qs = act(q, "pagedAttention");
        CudaTensor ks = act(k, "pagedAttention");
        CudaTensor vs = act(v, "pagedAttention");
        CudaTensor os = act(out, "pagedAttention");
        if (!(cache instanceof CudaKvCache c) || c.owner() != this) {
            throw new IllegalArgumentException("pagedAttention: KV cache " + cache + " was not made by " + dev.name);
        }
        Checks.pagedAttention(qs, ks, vs, os, c, layer, batch, heads, kvHeads, headDim);
        LaunchGeometry.attention(batch.tokens(), heads, headDim); // refuses a head dim the kernels lack, even when empty
        if (batch.tokens() == 0) {
            return;
        }
        DeviceBatch d = DeviceBatch.of(batch);
        String what = "pagedAttention layer " + layer + ", " + d.tokens() + " rows in " + d.segments() + " segments, q "
                + Tensor.describe(qs.shape()) + " (" + heads + "/" + kvHeads + " heads x " + headDim + "), " + c;
        c.writeAndAttend(dev, layer, d, dev.uploadScratch("batch", CudaDevice.ints(d.packed()), what), what,
                at(qs), at(ks), at(vs), at(os), heads, scale);
    }

    @Override
    public synchronized void embedding(Tensor table, int[] ids, Tensor out) {
        enter();
        CudaTensor ts = of(table, "embedding");
        CudaTensor os = act(out, "embedding");
        int d = ts.cols();
        Checks.equal("embedding out cols", os.cols(), d);
        Checks.equal("embedding out rows", os.rows(), ids.length);
        for (int id : ids) {
            Checks.tokenId(id, ts.rows());
        }
        if (ids.length == 0) {
            return;
        }
        String what = "embedding of " + ids.length + " ids in " + ts;
        long p = dev.uploadScratch("ids", CudaDevice.ints(ids), what);
        dev.launch(Kernel.EMBEDDING, LaunchGeometry.perRow(ids.length), what, at(ts), dtype(ts), ptr(p), at(os),
                i32(ids.length), i32(d));
    }

    @Override
    public synchronized void add(Tensor a, Tensor b, Tensor out) {
        enter();
        CudaTensor as = act(a, "add");
        CudaTensor bs = act(b, "add");
        CudaTensor os = act(out, "add");
        Checks.equal("add lengths", as.size(), bs.size());
        Checks.equal("add out length", as.size(), os.size());
        dev.launch(Kernel.ADD, LaunchGeometry.elementwise(as.size()), "add " + Tensor.describe(as.shape()),
                at(as), at(bs), at(os), i64(as.size()));
    }

    @Override
    public synchronized int[] argmax(Tensor x) {
        enter();
        CudaTensor xs = act(x, "argmax");
        int n = xs.rows();
        int[] best = new int[n];
        if (n == 0) {
            return best;
        }
        String what = "argmax " + Tensor.describe(xs.shape());
        long p = dev.memory.scratch("argmax", 4L * n);
        dev.launch(Kernel.ARGMAX, LaunchGeometry.perRow(n), what, at(xs), ptr(p), i32(n), i32(xs.cols()));
        dev.copyOut(p, 4L * n, what).asIntBuffer().get(best);
        return best;
    }

    /** Live device allocations of this backend (tensors, pools, scratch), for tests and diagnostics. */
    synchronized int liveAllocations() {
        return dev.memory.liveCount();
    }

    /**
     * Frees every allocation still held (tensors, KV pools, scratch), unloads the kernels,
     * destroys the stream and releases the primary context. Closing twice is allowed.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        dev.close();
    }
}
