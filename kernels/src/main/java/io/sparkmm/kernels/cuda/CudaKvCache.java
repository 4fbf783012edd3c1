package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.MemoryBudget;
import io.sparkmm.kernels.cuda.CudaApi.KernelArg;

/**
 * The KV pool in device memory: per layer one K and one V allocation, each
 * {@code [numBlocks, blockSize, kvHeads, headDim]} in the pool's dtype (the {@link KvCache}
 * layout), zeroed when made. One allocation per layer and kind keeps each under what a single
 * kernel indexes with 64-bit offsets and lets a failed allocation say which layer ran out.
 */
public final class CudaKvCache implements KvCache {

    private final CudaBackend owner;
    private final int numLayers;
    private final int numBlocks;
    private final int blockSize;
    private final int kvHeads;
    private final int headDim;
    private final DType dtype;
    /** [layer] device pointers of K and of V. */
    private final long[] keys;
    private final long[] values;
    private boolean closed;

    CudaKvCache(CudaBackend owner, int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim, DType dtype,
                long[] keys, long[] values) {
        this.owner = owner;
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.dtype = dtype;
        this.keys = keys;
        this.values = values;
    }

    /**
     * Bytes of one layer's K (or V): {@code numBlocks * blockSize * kvHeads * headDim * dtype}.
     * Validates the sizes as every backend does.
     */
    static long layerBytes(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim, DType dtype) {
        String what = "allocateKvCache(" + numLayers + " layers, " + numBlocks + " blocks, block size " + blockSize
                + ", " + kvHeads + " KV heads, head dim " + headDim + ", " + dtype + ")";
        long perBlock;
        try {
            perBlock = KvCache.bytesPerBlock(numLayers, blockSize, kvHeads, headDim, dtype);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
        if (numBlocks <= 0) {
            throw new IllegalArgumentException(what + ": the number of blocks must be positive");
        }
        if ((long) numBlocks * blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + ": " + numBlocks + " x " + blockSize
                    + " slots exceed 2^31 - 1, the largest slot id");
        }
        try {
            Math.multiplyExact(perBlock, (long) numBlocks);
            return perBlock / (2L * numLayers) * numBlocks;
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + ": " + numBlocks + " blocks of " + perBlock
                    + " bytes need more than " + Long.MAX_VALUE + " bytes", e);
        }
    }

    /**
     * A zeroed pool on {@code dev}. When the device is out of memory, what was allocated is freed
     * and the error says how much was asked, how much the budget had and how to allow more.
     */
    static CudaKvCache allocate(CudaBackend owner, CudaDevice dev, int numLayers, int numBlocks, int blockSize,
                                int kvHeads, int headDim, DType dtype, java.util.function.Supplier<MemoryBudget> budget) {
        long layerBytes = layerBytes(numLayers, numBlocks, blockSize, kvHeads, headDim, dtype);
        long[] keys = new long[numLayers];
        long[] values = new long[numLayers];
        try {
            for (int l = 0; l < numLayers; l++) {
                keys[l] = dev.memory.allocate(layerBytes, "KV cache layer " + l + " K");
                values[l] = dev.memory.allocate(layerBytes, "KV cache layer " + l + " V");
                dev.fill(keys[l], layerBytes, "zeroing KV cache layer " + l);
                dev.fill(values[l], layerBytes, "zeroing KV cache layer " + l);
            }
        } catch (CudaException e) {
            free(dev, keys, values);
            MemoryBudget b = budget.get();
            throw e.within("allocateKvCache: " + numLayers + " layers x 2 x " + layerBytes + " bytes (" + numBlocks
                    + " blocks of " + blockSize + " tokens x " + kvHeads + " KV heads x " + headDim + " " + dtype
                    + ") on " + dev.name + ", which has " + b.availableBytes() + " bytes of " + b.kind()
                    + "; use fewer blocks, or " + b.howToRaise());
        }
        return new CudaKvCache(owner, numLayers, numBlocks, blockSize, kvHeads, headDim, dtype, keys, values);
    }

    /** Frees a pool's allocations (0 entries, never made, are skipped). */
    static void free(CudaDevice dev, long[] keys, long[] values) {
        for (int l = 0; l < keys.length; l++) {
            dev.memory.free(keys[l]);
            dev.memory.free(values[l]);
        }
    }

    /**
     * Queues sparkmm_kv_write of this step's K/V into {@code layer}, then sparkmm_paged_attention
     * over it; {@code batch} is the flattened batch already uploaded at {@code batchBase}. All new
     * K/V go in first, so a chunk's rows attend to each other through the pool.
     */
    void writeAndAttend(CudaDevice dev, int layer, DeviceBatch batch, long batchBase, String what, KernelArg q,
                        KernelArg k, KernelArg v, KernelArg out, int heads, float scale) {
        KernelArg kc = KernelArg.ptr(keys(layer));
        KernelArg vc = KernelArg.ptr(values(layer));
        KernelArg dt = KernelArg.i32(Kernel.dtypeCode(dtype));
        int t = batch.tokens();
        dev.launch(Kernel.KV_WRITE, LaunchGeometry.kvWrite(t, kvHeads, headDim), what, k, v, kc, vc, dt,
                KernelArg.ptr(batchBase + 4L * batch.slotsOffset()), KernelArg.i32(t), KernelArg.i32(kvHeads),
                KernelArg.i32(headDim));
        dev.launch(Kernel.PAGED_ATTENTION, LaunchGeometry.attention(t, heads, headDim), what, q, out, kc, vc, dt,
                KernelArg.ptr(batchBase + 4L * batch.rowSegmentOffset()),
                KernelArg.ptr(batchBase + 4L * batch.queryStartOffset()),
                KernelArg.ptr(batchBase + 4L * batch.contextLensOffset()),
                KernelArg.ptr(batchBase + 4L * batch.blockTablesOffset()), KernelArg.i32(batch.maxBlocks()),
                KernelArg.i32(t), KernelArg.i32(blockSize), KernelArg.i32(heads), KernelArg.i32(kvHeads),
                KernelArg.i32(headDim), KernelArg.f32(scale));
    }

    long keys(int layer) {
        checkOpen();
        return keys[layer];
    }

    long values(int layer) {
        checkOpen();
        return values[layer];
    }

    CudaBackend owner() {
        return owner;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("KV cache " + this + " was closed");
        }
    }

    @Override
    public int numLayers() {
        return numLayers;
    }

    @Override
    public int numBlocks() {
        return numBlocks;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public int kvHeads() {
        return kvHeads;
    }

    @Override
    public int headDim() {
        return headDim;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long bytes() {
        return 2L * numLayers * layerBytes(numLayers, numBlocks, blockSize, kvHeads, headDim, dtype);
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.release(this, keys, values);
        }
    }

    @Override
    public String toString() {
        return "CudaKvCache[" + numLayers + " layers, " + numBlocks + " blocks x " + blockSize + " tokens x "
                + kvHeads + " KV heads x " + headDim + " " + dtype + "]";
    }
}
