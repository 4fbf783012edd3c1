package io.sparkmm.kernels;

/**
 * The key/value memory pool of every decoder layer, allocated once when an engine starts (see
 * {@link Backend#allocateKvCache}) and owned by the backend that made it. The engine's block
 * manager hands out block ids; {@link Backend#pagedAttention} writes and reads through them.
 *
 * <p>Layout, per layer and separately for K and for V: {@code [numBlocks, blockSize, kvHeads,
 * headDim]} F32. A block's tokens are contiguous and each token's heads are contiguous, so
 * writing one new token is a single contiguous store of {@code kvHeads * headDim} floats, and
 * reading a block streams {@code blockSize} tokens in position order. CPU backends keep it off
 * the Java heap, so a pool of many GiB neither inflates the heap nor slows the collector.
 */
public interface KvCache extends AutoCloseable {

    int numLayers();

    int numBlocks();

    /** Token positions per block. */
    int blockSize();

    int kvHeads();

    int headDim();

    /** Bytes of K and V storage over all layers: {@code numBlocks * bytesPerBlock(...)}. */
    long bytes();

    /** Releases the storage; using the cache afterwards is an error. Closing twice is allowed. */
    @Override
    void close();

    /**
     * Bytes one block costs over all layers, K and V: {@code 2 * layers * blockSize * kvHeads *
     * headDim * 4}, so an engine can turn a byte budget into a block count.
     *
     * @throws IllegalArgumentException if an argument is not positive or the product overflows a long
     */
    static long bytesPerBlock(int numLayers, int blockSize, int kvHeads, int headDim) {
        if (numLayers <= 0 || blockSize <= 0 || kvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV cache: layers " + numLayers + ", block size " + blockSize
                    + ", KV heads " + kvHeads + " and head dim " + headDim + " must all be positive");
        }
        try {
            long perToken = Math.multiplyExact(Math.multiplyExact((long) kvHeads, (long) headDim), 4L);
            return Math.multiplyExact(Math.multiplyExact(2L * numLayers, (long) blockSize), perToken);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("KV cache: one block of " + numLayers + " layers x " + blockSize
                    + " tokens x " + kvHeads + " KV heads x " + headDim + " dims needs more than "
                    + Long.MAX_VALUE + " bytes", e);
        }
    }
}
