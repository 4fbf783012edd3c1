package io.sparkmm.kernels.cpu;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * The KV pool of the CPU backends, in direct (off-heap) buffers: per layer, K and V each
 * {@code [numBlocks, blockSize, kvHeads, headDim]} in the pool's dtype (F32, or the 16-bit
 * patterns of BF16/F16), cut into chunks of whole blocks because one direct buffer holds less
 * than 2 GiB. A block never straddles two chunks, so a token's heads and a block's tokens stay
 * contiguous.
 *
 * <p>Writes round F32 to the dtype to nearest, ties to even ({@link Half}); reads widen exactly.
 *
 * <p>Reads and writes use absolute indices only (never a buffer's position), so threads may
 * read concurrently. The memory returns to the JVM when the buffers are collected after
 * {@link #close()}; the JDK's direct-memory reservation runs a GC itself before it gives up,
 * so closing one engine and starting another does not need the old pool to be freed first.
 */
public final class CpuKvCache implements KvCache {

    /** The largest direct buffer we make: ByteBuffer capacities are ints. */
    static final long MAX_CHUNK_BYTES = Integer.MAX_VALUE;

    /** Rounded 16-bit rows on their way into the pool; per thread so concurrent writers are safe. */
    private static final ThreadLocal<short[]> ROUNDED = ThreadLocal.withInitial(() -> new short[0]);

    private final int numLayers;
    private final int numBlocks;
    private final int blockSize;
    private final int kvHeads;
    private final int headDim;
    private final DType dtype;
    private final long bytes;
    /** Elements per block of one layer's K (or V): blockSize * kvHeads * headDim. */
    private final int blockElements;
    private final int blocksPerChunk;
    /** F32 pools: [0 = K, 1 = V][layer][chunk]; null for 16-bit pools and after close. */
    private FloatBuffer[][][] floats;
    /** BF16/F16 pools: [0 = K, 1 = V][layer][chunk] of bit patterns; null for F32 pools and after close. */
    private ShortBuffer[][][] halves;
    private volatile boolean closed;

    private CpuKvCache(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim, DType dtype,
                       long bytes, int blockElements, int blocksPerChunk) {
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.dtype = dtype;
        this.bytes = bytes;
        this.blockElements = blockElements;
        this.blocksPerChunk = blocksPerChunk;
    }

    /** Allocates a zeroed F32 pool; see {@link io.sparkmm.kernels.Backend#allocateKvCache}. */
    public static CpuKvCache allocate(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim) {
        return allocate(numLayers, numBlocks, blockSize, kvHeads, headDim, DType.F32, MAX_CHUNK_BYTES);
    }

    /** Allocates a zeroed pool in {@code dtype}; see {@link io.sparkmm.kernels.Backend#allocateKvCache}. */
    public static CpuKvCache allocate(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim,
                                      DType dtype) {
        return allocate(numLayers, numBlocks, blockSize, kvHeads, headDim, dtype, MAX_CHUNK_BYTES);
    }

    /** As {@link #allocate(int, int, int, int, int)} with chunks of at most {@code maxChunkBytes} (tests use small ones). */
    public static CpuKvCache allocate(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim,
                                      long maxChunkBytes) {
        return allocate(numLayers, numBlocks, blockSize, kvHeads, headDim, DType.F32, maxChunkBytes);
    }

    /** As {@link #allocate(int, int, int, int, int, DType)} with chunks of at most {@code maxChunkBytes}. */
    public static CpuKvCache allocate(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim,
                                      DType dtype, long maxChunkBytes) {
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
        // Against the whole limit, not what is left: buffers of a closed pool still count until
        // collected, and the JDK collects them itself before it refuses.
        long limit = DirectMemory.limit();
        if (total > limit) {
            throw new IllegalStateException(what + ": asks for " + DirectMemory.describeBytes(total)
                    + " of " + DirectMemory.KIND + " but the JVM allows at most " + DirectMemory.describeBytes(limit)
                    + "; use fewer blocks, or " + DirectMemory.HOW_TO_RAISE);
        }
        int blocksPerChunk = (int) Math.min(numBlocks, maxChunkBytes / blockBytes);
        CpuKvCache cache = new CpuKvCache(numLayers, numBlocks, blockSize, kvHeads, headDim, dtype, total,
                (int) (blockBytes / dtype.bytes()), blocksPerChunk);
        int chunks = (numBlocks + blocksPerChunk - 1) / blocksPerChunk;
        FloatBuffer[][][] floats = dtype == DType.F32 ? new FloatBuffer[2][numLayers][chunks] : null;
        ShortBuffer[][][] halves = dtype == DType.F32 ? null : new ShortBuffer[2][numLayers][chunks];
        try {
            for (int kv = 0; kv < 2; kv++) {
                for (int l = 0; l < numLayers; l++) {
                    for (int c = 0; c < chunks; c++) {
                        int blocks = Math.min(blocksPerChunk, numBlocks - c * blocksPerChunk);
                        ByteBuffer b = ByteBuffer.allocateDirect((int) (blocks * blockBytes)).order(ByteOrder.nativeOrder());
                        if (floats != null) {
                            floats[kv][l][c] = b.asFloatBuffer();
                        } else {
                            halves[kv][l][c] = b.asShortBuffer();
                        }
                    }
                }
            }
        } catch (OutOfMemoryError e) {
            // Other pools (or other libraries' direct buffers) hold part of the limit. The chunks
            // made so far become garbage and are freed by the collector.
            throw new IllegalStateException(what + ": could not reserve " + DirectMemory.describeBytes(total)
                    + " of " + DirectMemory.KIND + " (" + e.getMessage() + "; the limit is "
                    + DirectMemory.describeBytes(limit) + ", " + DirectMemory.describeBytes(DirectMemory.reserved())
                    + " taken); use fewer blocks, or " + DirectMemory.HOW_TO_RAISE, e);
        }
        cache.floats = floats;
        cache.halves = halves;
        return cache;
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
     * {@code k} and {@code vOff} of {@code v}) into {@code slot} of {@code layer}, rounded to the
     * pool's dtype.
     */
    public void write(int layer, int slot, float[] k, int kOff, float[] v, int vOff) {
        checkOpen();
        int block = slot / blockSize;
        int chunk = block / blocksPerChunk;
        int index = index(block, slot % blockSize);
        int width = kvHeads * headDim;
        if (floats != null) {
            floats[0][layer][chunk].put(index, k, kOff, width);
            floats[1][layer][chunk].put(index, v, vOff, width);
            return;
        }
        short[] bits = ROUNDED.get();
        if (bits.length < width) {
            bits = new short[width];
            ROUNDED.set(bits);
        }
        round(k, kOff, bits, width);
        halves[0][layer][chunk].put(index, bits, 0, width);
        round(v, vOff, bits, width);
        halves[1][layer][chunk].put(index, bits, 0, width);
    }

    private void round(float[] src, int off, short[] dst, int count) {
        if (dtype == DType.BF16) {
            for (int i = 0; i < count; i++) {
                dst[i] = Half.bf16FromFloat(src[off + i]);
            }
        } else {
            for (int i = 0; i < count; i++) {
                dst[i] = Half.fromFloat(src[off + i]);
            }
        }
    }

    /** A stored 16-bit pattern of this pool's dtype as F32 (exact). */
    private float widen(short bits) {
        return dtype == DType.BF16 ? CpuTensor.bf16ToFloat(bits) : Half.toFloat(bits);
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
     * into {@code kDst}/{@code vDst} as F32 rows of {@code headDim} starting at row {@code from}:
     * the block-table accessor of the CPU attention kernels. Widening is exact, so attending over
     * the copy gives the same bits as attending over contiguous K/V holding the stored values.
     */
    public void gather(int layer, int[] blocks, int kvHead, int from, int to, float[] kDst, float[] vDst) {
        checkOpen();
        for (int p = from; p < to; p++) {
            int block = blocks[p / blockSize];
            int chunk = block / blocksPerChunk;
            int index = index(block, p % blockSize) + kvHead * headDim;
            int row = p * headDim;
            if (floats != null) {
                floats[0][layer][chunk].get(index, kDst, row, headDim);
                floats[1][layer][chunk].get(index, vDst, row, headDim);
            } else {
                for (int c = 0; c < headDim; c++) {
                    kDst[row + c] = widen(halves[0][layer][chunk].get(index + c));
                    vDst[row + c] = widen(halves[1][layer][chunk].get(index + c));
                }
            }
        }
    }

    /**
     * As {@link #gather} for a BF16/F16 pool, but copies the stored 16-bit patterns, for a backend
     * that widens them faster itself.
     *
     * @throws IllegalStateException if the pool is F32
     */
    public void gatherBits(int layer, int[] blocks, int kvHead, int from, int to, short[] kDst, short[] vDst) {
        checkOpen();
        if (halves == null) {
            throw new IllegalStateException("gatherBits: KV cache " + this + " holds F32, not 16-bit patterns");
        }
        for (int p = from; p < to; p++) {
            int block = blocks[p / blockSize];
            int chunk = block / blocksPerChunk;
            int index = index(block, p % blockSize) + kvHead * headDim;
            halves[0][layer][chunk].get(index, kDst, p * headDim, headDim);
            halves[1][layer][chunk].get(index, vDst, p * headDim, headDim);
        }
    }

    /** One element of K ({@code value} false) or V at a slot as F32, for tests and the reference backend. */
    public float get(int layer, boolean value, int slot, int kvHead, int c) {
        checkOpen();
        int block = slot / blockSize;
        int kv = value ? 1 : 0;
        int index = index(block, slot % blockSize) + kvHead * headDim + c;
        return floats != null ? floats[kv][layer][block / blocksPerChunk].get(index)
                : widen(halves[kv][layer][block / blocksPerChunk].get(index));
    }

    /** Element index, inside its chunk, of a block's token at {@code offset}. */
    private int index(int block, int offset) {
        return (block % blocksPerChunk) * blockElements + offset * kvHeads * headDim;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("KV cache " + this + " was closed");
        }
    }

    /** Chunks per layer, for tests of the chunking. */
    public int chunksPerLayer() {
        checkOpen();
        return floats != null ? floats[0][0].length : halves[0][0].length;
    }

    public boolean isClosed() {
        return closed;
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
        return bytes;
    }

    @Override
    public void close() {
        closed = true;
        floats = null;
        halves = null;
    }

    @Override
    public String toString() {
        return "CpuKvCache[" + numLayers + " layers, " + numBlocks + " blocks x " + blockSize + " tokens x "
                + kvHeads + " KV heads x " + headDim + " " + dtype + ", " + DirectMemory.describeBytes(bytes) + "]";
    }
}
