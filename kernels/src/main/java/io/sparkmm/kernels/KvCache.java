package io.sparkmm.kernels;

/**
 * The paged KV memory of every layer, allocated once when an engine starts and owned by the
 * backend (off the Java heap on CPU). Per layer, K and V each have the layout
 * {@code [numBlocks, blockSize, kvHeads, headDim]} in F32: a block's tokens are contiguous and
 * each token's heads are contiguous, so writing one token is one contiguous store, and a slot
 * number ({@code block * blockSize + offset}) indexes tokens directly.
 */
public interface KvCache extends AutoCloseable {

    int numLayers();

    int numBlocks();

    int blockSize();

    int kvHeads();

    int headDim();

    /** Bytes held by the pool. */
    long bytes();

    @Override
    void close();

    /** K and V of every layer for one block. */
    static long bytesPerBlock(int numLayers, int blockSize, int kvHeads, int headDim) {
        return 2L * numLayers * blockSize * kvHeads * headDim * Float.BYTES;
    }
}
