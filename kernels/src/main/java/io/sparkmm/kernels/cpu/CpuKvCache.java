package io.sparkmm.kernels.cpu;

import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The KV pool of the CPU backends, in direct (off-heap) buffers: per layer, K and V each
 * {@code [numBlocks, blockSize, kvHeads, headDim]} F32, cut into chunks of whole blocks because
 * one direct buffer holds less than 2 GiB. A block never straddles two chunks, so a token's
 * heads and a block's tokens stay contiguous.
 *
 * <p>Reads and writes use absolute indices only (never a buffer's position), so threads may
 * read concurrently. The memory returns to the JVM when the buffers are collected after
 * {@link #close()}; the JDK's direct-memory reservation runs a GC itself before it gives up,
 * so closing one engine and starting another does not need the old pool to be freed first.
 */
public final class CpuKvCache implements KvCache {

    /** The largest direct buffer we make: ByteBuffer capacities are ints. */
    static final long MAX_CHUNK_BYTES = Integer.MAX_VALUE;

    private final int numLayers;
    private final int numBlocks;
    private final int blockSize;
    private final int kvHeads;
    private final int headDim;
    private final long bytes;
    /** Floats per block of one layer's K (or V): blockSize * kvHeads * headDim. */
    private final int blockFloats;
    private final int blocksPerChunk;
    /** [layer][chunk]; null after close. */
    private FloatBuffer[][] keys;
    private FloatBuffer[][] values;

    private CpuKvCache(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim, long bytes,
                       int blockFloats, int blocksPerChunk) {
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.bytes = bytes;
        this.blockFloats = blockFloats;
        this.blocksPerChunk = blocksPerChunk;
    }

    /** Allocates a zeroed pool; see {@link io.sparkmm.kernels.Backend#allocateKvCache}. */
    public static CpuKvCache allocate(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim) {
        return allocate(numLayers, numBlocks, blockSize, kvHeads, headDim, MAX_CHUNK_BYTES);
    }

    /** As {@link #allocate(int, int, int, int, int)} with chunks of at most {@code maxChunkBytes} (tests use small ones). */
    public static CpuKvCache allocate(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim,
                                      long maxChunkBytes) {
        String what = "allocateKvCache(" + numLayers + " layers, " + numBlocks + " blocks, block size " + blockSize
                + ", " + kvHeads + " KV heads, head dim " + headDim + ")";
        long perBlock;
        try {
            perBlock = KvCache.bytesPerBlock(numLayers, blockSize, kvHeads, headDim);
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
        long blockBytes = perBlock / (2L * numLayers); // one layer's K (or V) of one block
        if (blockBytes > maxChunkBytes) {
            throw new IllegalArgumentException(what + ": one block of one layer needs " + blockBytes
                    + " bytes, more than the " + maxChunkBytes + " one buffer can hold; use a smaller block size");
        }
        long total;
        try {
            total = Math.multiplyExact(perBlock, (long) numBlocks);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + ": " + numBlocks + " blocks of " + perBlock
                    + " bytes need more than " + Long.MAX_VALUE + " bytes", e);
        }
        long limit = maxDirectMemory();
        if (total > limit) {
            throw new IllegalStateException(what + ": asks for " + describeBytes(total)
                    + " of direct memory but the JVM allows at most " + describeBytes(limit)
                    + "; raise -XX:MaxDirectMemorySize or use fewer blocks");
        }
        int blocksPerChunk = (int) Math.min(numBlocks, maxChunkBytes / blockBytes);
        CpuKvCache cache = new CpuKvCache(numLayers, numBlocks, blockSize, kvHeads, headDim, total,
                (int) (blockBytes / Float.BYTES), blocksPerChunk);
        int chunks = (numBlocks + blocksPerChunk - 1) / blocksPerChunk;
        FloatBuffer[][] k = new FloatBuffer[numLayers][chunks];
        FloatBuffer[][] v = new FloatBuffer[numLayers][chunks];
        try {
            for (int l = 0; l < numLayers; l++) {
                for (int c = 0; c < chunks; c++) {
                    int blocks = Math.min(blocksPerChunk, numBlocks - c * blocksPerChunk);
                    k[l][c] = direct(blocks * blockBytes);
                    v[l][c] = direct(blocks * blockBytes);
                }
            }
        } catch (OutOfMemoryError e) {
            // Direct memory is reserved against -XX:MaxDirectMemorySize (other pools may hold some of it).
            // The chunks made so far become garbage and are freed by the collector.
            throw new IllegalStateException(what + ": could not reserve " + describeBytes(total)
                    + " of direct memory (" + e.getMessage() + "); raise -XX:MaxDirectMemorySize"
                    + " (the limit now is " + describeBytes(limit) + ") or use fewer blocks", e);
        }
        cache.keys = k;
        cache.values = v;
        return cache;
    }

    private static FloatBuffer direct(long bytes) {
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /**
     * The JVM's direct-memory limit: -XX:MaxDirectMemorySize when set, else (as the JDK does) the
     * maximum heap size. Checked up front so an impossible request fails at once instead of
     * touching gigabytes before the JDK refuses.
     */
    static long maxDirectMemory() {
        try {
            com.sun.management.HotSpotDiagnosticMXBean hotspot =
                    ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            long set = Long.parseLong(hotspot.getVMOption("MaxDirectMemorySize").getValue());
            if (set > 0) {
                return set;
            }
        } catch (RuntimeException | LinkageError e) {
            // not HotSpot, or the option is not there: fall back to the JDK's default rule
        }
        return Runtime.getRuntime().maxMemory();
    }

    static String describeBytes(long bytes) {
        return bytes + " bytes (" + String.format(java.util.Locale.ROOT, "%.2f", bytes / (double) (1L << 30)) + " GiB)";
    }

    /** Unwraps a cache made by a CPU backend. */
    public static CpuKvCache of(KvCache cache) {
        if (cache instanceof CpuKvCache c) {
            return c;
        }
        throw new IllegalArgumentException("KV cache " + cache + " was not made by a CPU backend");
    }

    // ---------------------------------------------------------------- access

    /**
     * Stores one token's K and V rows ({@code kvHeads * headDim} floats each, at {@code kOff} of
     * {@code k} and {@code vOff} of {@code v}) into {@code slot} of {@code layer}.
     */
    public void write(int layer, int slot, float[] k, int kOff, float[] v, int vOff) {
        int block = slot / blockSize;
        int index = index(block, slot % blockSize);
        int width = kvHeads * headDim;
        keys(layer)[block / blocksPerChunk].put(index, k, kOff, width);
        values[layer][block / blocksPerChunk].put(index, v, vOff, width);
    }

    /** Writes row t of k/v ([T, kvHeads * headDim]) into slot t of the batch, for every row. */
    public void writeAll(int layer, PagedBatch batch, float[] k, float[] v) {
        int width = kvHeads * headDim;
        for (int t = 0; t < batch.tokens(); t++) {
            write(layer, batch.slot(t), k, t * width, v, t * width);
        }
    }

    /**
     * Copies positions [from, to) of one KV head of a sequence, found through its block table,
     * into {@code kDst}/{@code vDst} as rows of {@code headDim} starting at row {@code from}: the
     * block-table accessor of the CPU attention kernels. Copies are exact, so attending over the
     * copy gives the same bits as attending over contiguous K/V.
     */
    public void gather(int layer, int[] blocks, int kvHead, int from, int to, float[] kDst, float[] vDst) {
        FloatBuffer[] ks = keys(layer);
        FloatBuffer[] vs = values[layer];
        for (int p = from; p < to; p++) {
            int block = blocks[p / blockSize];
            int index = index(block, p % blockSize) + kvHead * headDim;
            ks[block / blocksPerChunk].get(index, kDst, p * headDim, headDim);
            vs[block / blocksPerChunk].get(index, vDst, p * headDim, headDim);
        }
    }

    /** One element of K ({@code value} false) or V at a slot, for tests and the reference backend. */
    public float get(int layer, boolean value, int slot, int kvHead, int c) {
        int block = slot / blockSize;
        FloatBuffer[] buffers = value ? values(layer) : keys(layer);
        return buffers[block / blocksPerChunk].get(index(block, slot % blockSize) + kvHead * headDim + c);
    }

    /** Float index, inside its chunk, of a block's token at {@code offset}. */
    private int index(int block, int offset) {
        return (block % blocksPerChunk) * blockFloats + offset * kvHeads * headDim;
    }

    private FloatBuffer[] keys(int layer) {
        checkOpen();
        return keys[layer];
    }

    private FloatBuffer[] values(int layer) {
        checkOpen();
        return values[layer];
    }

    private void checkOpen() {
        if (keys == null) {
            throw new IllegalStateException("KV cache " + this + " was closed");
        }
    }

    /** Chunks per layer, for tests of the chunking. */
    public int chunksPerLayer() {
        checkOpen();
        return keys[0].length;
    }

    public boolean isClosed() {
        return keys == null;
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
        return bytes;
    }

    @Override
    public void close() {
        keys = null;
        values = null;
    }

    @Override
    public String toString() {
        return "CpuKvCache[" + numLayers + " layers, " + numBlocks + " blocks x " + blockSize + " tokens x "
                + kvHeads + " KV heads x " + headDim + ", " + describeBytes(bytes) + "]";
    }
}
