package io.sparkmm.kernels.cpu;

import io.sparkmm.kernels.KvCache;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The KV pool of the CPU backends: one direct (off-heap) buffer for K and one for V per layer,
 * read and written with absolute bulk gets and puts, which are safe from several threads.
 */
public final class CpuKvCache implements KvCache {

    private final int numLayers;
    private final int numBlocks;
    private final int blockSize;
    private final int kvHeads;
    private final int headDim;
    private FloatBuffer[] keys;
    private FloatBuffer[] values;

    public CpuKvCache(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim) {
        if (numLayers < 1 || numBlocks < 1 || blockSize < 1 || kvHeads < 1 || headDim < 1) {
            throw new IllegalArgumentException("KV cache: every size must be >= 1, got layers=" + numLayers
                    + " blocks=" + numBlocks + " blockSize=" + blockSize + " kvHeads=" + kvHeads + " headDim=" + headDim);
        }
        long perLayer = (long) numBlocks * blockSize * kvHeads * headDim * Float.BYTES;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache: " + numBlocks + " blocks need " + perLayer
                    + " bytes per layer for K, over the 2 GiB of one direct buffer; use fewer blocks (at most "
                    + (Integer.MAX_VALUE / ((long) blockSize * kvHeads * headDim * Float.BYTES)) + ")");
        }
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.keys = new FloatBuffer[numLayers];
        this.values = new FloatBuffer[numLayers];
        try {
            for (int l = 0; l < numLayers; l++) {
                keys[l] = ByteBuffer.allocateDirect((int) perLayer).order(ByteOrder.nativeOrder()).asFloatBuffer();
                values[l] = ByteBuffer.allocateDirect((int) perLayer).order(ByteOrder.nativeOrder()).asFloatBuffer();
            }
        } catch (OutOfMemoryError e) {
            keys = null;
            values = null;
            throw new IllegalStateException("KV cache: could not allocate " + bytes(numLayers, perLayer)
                    + " bytes of direct memory (" + e.getMessage() + "); lower the KV cache size or raise "
                    + "-XX:MaxDirectMemorySize", e);
        }
    }

    private static long bytes(int layers, long perLayer) {
        return 2L * layers * perLayer;
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
    public long bytes() {
        return bytes(numLayers, (long) numBlocks * blockSize * kvHeads * headDim * Float.BYTES);
    }

    public FloatBuffer keys(int layer) {
        return layer(keys, layer);
    }

    public FloatBuffer values(int layer) {
        return layer(values, layer);
    }

    private FloatBuffer layer(FloatBuffer[] buffers, int layer) {
        if (buffers == null) {
            throw new IllegalStateException("KV cache was closed");
        }
        if (layer < 0 || layer >= numLayers) {
            throw new IllegalArgumentException("KV cache: layer " + layer + " outside [0, " + numLayers + ")");
        }
        return buffers[layer];
    }

    /** Stores the K and V rows ([kvHeads * headDim] each) of new token t at its slot. */
    public void write(int layer, int slot, float[] k, int kOffset, float[] v, int vOffset) {
        int base = slot * kvHeads * headDim;
        int len = kvHeads * headDim;
        keys(layer).put(base, k, kOffset, len);
        values(layer).put(base, v, vOffset, len);
    }

    /**
     * Copies positions [0, count) of one KV head of a sequence into dense arrays
     * {@code k[p * headDim + c]}, {@code v[...]}, following its block table.
     */
    public void gather(int layer, int[] blockTable, int count, int kvHead, float[] k, float[] v) {
        FloatBuffer kb = keys(layer);
        FloatBuffer vb = values(layer);
        for (int p = 0; p < count; p++) {
            int slot = blockTable[p / blockSize] * blockSize + p % blockSize;
            int base = (slot * kvHeads + kvHead) * headDim;
            kb.get(base, k, p * headDim, headDim);
            vb.get(base, v, p * headDim, headDim);
        }
    }

    public static CpuKvCache of(KvCache cache) {
        if (cache instanceof CpuKvCache c) {
            return c;
        }
        throw new IllegalArgumentException("KV cache " + cache + " was not made by a CPU backend");
    }

    @Override
    public void close() {
        keys = null;
        values = null;
    }
}
