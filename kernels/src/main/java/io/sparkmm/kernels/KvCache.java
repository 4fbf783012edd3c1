package io.sparkmm.kernels;

/**
 * The key/value memory pool of every decoder layer, allocated once when an engine starts (see
 * {@link Backend#allocateKvCache}) and owned by the backend that made it. The engine's block
 * manager hands out block ids; {@link Backend#pagedAttention} writes and reads through them.
 *
 * <p>Layout, per layer and separately for K and for V: {@code [numBlocks, blockSize, kvHeads,
 * headDim]} in {@link #dtype()}. A block's tokens are contiguous and each token's heads are
 * contiguous, so writing one new token is a single contiguous store of {@code kvHeads * headDim}
 * values, and reading a block streams {@code blockSize} tokens in position order. CPU backends
 * keep it off the Java heap, so a pool of many GiB neither inflates the heap nor slows the
 * collector.
 *
 * <p>Attention computes in F32 whatever the dtype: new K/V are rounded to the dtype when written
 * (to nearest, ties to even) and widened exactly when read, so attending over a BF16 or F16 pool
 * gives the bits of attending over K/V rounded to that dtype beforehand.
 */
public interface KvCache extends AutoCloseable {

    int numLayers();

    int numBlocks();

    /** Token positions per block. */
    int blockSize();

    int kvHeads();

    int headDim();

    /** The element type K and V are stored in: F32, BF16 or F16. */
    DType dtype();

    /** Bytes of K and V storage over all layers: {@code numBlocks * bytesPerBlock(..., dtype())}. */
    long bytes();

    /** Releases the storage; using the cache afterwards is an error. Closing twice is allowed. */
    @Override
    void close();

    /**
     * Bytes one F32 block costs over all layers, K and V: {@link #bytesPerBlock(int, int, int,
     * int, DType)} with {@link DType#F32}, the dtype of pools allocated without one.
     */
    static long bytesPerBlock(int numLayers, int blockSize, int kvHeads, int headDim) {
        return bytesPerBlock(numLayers, blockSize, kvHeads, headDim, DType.F32);
    }

    /**
     * Bytes one block costs over all layers, K and V: {@code 2 * layers * blockSize * kvHeads *
     * headDim * dtype.bytes()}, so an engine can turn a byte budget into a block count.
     *
     * @throws IllegalArgumentException if a size is not positive, dtype is null, or the product
     *     overflows a long
     */
    static long bytesPerBlock(int numLayers, int blockSize, int kvHeads, int headDim, DType dtype) {
        if (numLayers <= 0 || blockSize <= 0 || kvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV cache: layers " + numLayers + ", block size " + blockSize
                    + ", KV heads " + kvHeads + " and head dim " + headDim + " must all be positive");
        }
        if (dtype == null) {
            throw new IllegalArgumentException("KV cache: a dtype (F32, BF16 or F16) is required");
        }
        try {
            long perToken = Math.multiplyExact(Math.multiplyExact((long) kvHeads, (long) headDim), (long) dtype.bytes());
            return Math.multiplyExact(Math.multiplyExact(2L * numLayers, (long) blockSize), perToken);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("KV cache: one block of " + numLayers + " layers x " + blockSize
                    + " tokens x " + kvHeads + " KV heads x " + headDim + " dims in " + dtype + " needs more than "
                    + Long.MAX_VALUE + " bytes", e);
        }
    }
}
