package io.sparkmm.kernels.cpu;

import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.MemoryBudget;
import io.sparkmm.kernels.Tensor;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Storage shared by the CPU backends: heap F32 activations, weights kept as stored, and off-heap
 * KV pools (F32, BF16 or F16) that are closed with the backend. Subclasses supply the math.
 */
public abstract class CpuBackendBase implements Backend {

    /** KV pools this backend made, closed with it. */
    private final List<CpuKvCache> caches = new CopyOnWriteArrayList<>();

    @Override
    public Tensor zeros(int... shape) {
        long size = 1;
        for (int d : shape) {
            size *= d;
        }
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("zeros: shape " + Tensor.describe(shape) + " is too large or negative");
        }
        return CpuTensor.f32(new float[(int) size], shape);
    }

    @Override
    public Tensor upload(float[] data, int... shape) {
        return CpuTensor.f32(data.clone(), shape);
    }

    @Override
    public Tensor weight(DType dtype, ByteBuffer littleEndian, int... shape) {
        return CpuTensor.raw(dtype, littleEndian, shape);
    }

    /**
     * Decodes {@code count} elements of {@code src} from {@code start} into {@code dst[dstOff..]}
     * as F32; every backend's decode gives the same bits, only its speed differs.
     */
    protected abstract void decodeRange(CpuTensor src, long start, float[] dst, int dstOff, int count);

    @Override
    public float[] download(Tensor t) {
        CpuTensor c = CpuTensor.of(t);
        float[] out = new float[(int) c.size()];
        decodeRange(c, 0, out, 0, out.length);
        return out;
    }

    @Override
    public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int count) {
        CpuTensor s = CpuTensor.of(src);
        CpuTensor d = CpuTensor.of(dst);
        int cols = s.cols();
        Checks.equal("copyRows cols", cols, d.cols());
        Checks.rowRange("copyRows source", s, srcRow, count);
        Checks.rowRange("copyRows destination", d, dstRow, count);
        decodeRange(s, (long) srcRow * cols, d.data(), dstRow * cols, count * cols);
    }

    @Override
    public KvCache allocateKvCache(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim,
                                   DType dtype) {
        CpuKvCache cache = CpuKvCache.allocate(numLayers, numBlocks, blockSize, kvHeads, headDim, dtype);
        caches.add(cache);
        return cache;
    }

    /** The JVM's direct memory left, where {@link #allocateKvCache} puts pools. */
    @Override
    public MemoryBudget memoryBudget() {
        return DirectMemory.budget();
    }

    /** Closes every KV pool this backend allocated. */
    protected void closeCaches() {
        caches.forEach(CpuKvCache::close);
        caches.clear();
    }
}
