package io.sparkmm.kernels;

import java.nio.ByteBuffer;

/**
 * The math a model needs, on storage the backend owns.
 *
 * <p>Shapes use these letters: {@code n} rows of a flattened batch (tokens), {@code k} input
 * features, {@code m} output features, {@code d} hidden size, {@code V} vocabulary size,
 * {@code hq}/{@code hkv} query/key-value heads, {@code hd} head dim. Activations are F32.
 * Weights may be F32, F16 or BF16 and are read as stored.
 *
 * <p>Every output element is computed by a reduction whose order depends only on that
 * element's own inputs, never on how many rows are in the batch or which thread runs it; this
 * makes a sequence's results bit-identical whatever it is batched with.
 *
 * <p>Outputs may alias inputs only where an op says so.
 */
public interface Backend extends AutoCloseable {

    /** A short name for logs and benchmarks, e.g. "reference" or "simd(2 threads)". */
    String name();

    // ---------------------------------------------------------------- storage

    /** A new F32 tensor filled with zeros. */
    Tensor zeros(int... shape);

    /** A new F32 tensor holding a copy of {@code data} (length must equal the shape's size). */
    Tensor upload(float[] data, int... shape);

    /**
     * A weight tensor over little-endian bytes in {@code dtype}, as found in a safetensors file.
     * The buffer may be memory-mapped; the backend may keep it as is (never writes to it) or copy
     * it to its own storage. Its remaining bytes must equal size * dtype.bytes().
     */
    Tensor weight(DType dtype, ByteBuffer littleEndian, int... shape);

    /** A copy of the tensor's values as F32, row-major. */
    float[] download(Tensor t);

    /** dst[dstRow + i, :] = src[srcRow + i, :] for i in [0, count); both F32 with equal cols. */
    void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int count);

    // ---------------------------------------------------------------- ops

    /**
     * out[n, m] = x[n, k] @ w[m, k]^T (+ bias[m]), the layout of a Hugging Face Linear weight.
     * {@code bias} may be null.
     */
    void matmul(Tensor x, Tensor w, Tensor bias, Tensor out);

    /**
     * outs[i] = x @ ws[i]^T (+ biases[i]) for every i: several weights reading one input (q/k/v,
     * gate/up), in one op so a backend can spread all their output columns over its threads at
     * once instead of meeting at a barrier after each. Each output is exactly {@link #matmul}'s;
     * {@code biases} may be null or hold nulls.
     */
    default void matmuls(Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        for (int i = 0; i < ws.length; i++) {
            matmul(x, ws[i], biases == null ? null : biases[i], outs[i]);
        }
    }

    /** out[n, d] = x / sqrt(mean(x^2) + eps) * w[d], per row. out may alias x. */
    void rmsNorm(Tensor x, Tensor w, float eps, Tensor out);

    /** out[n, d] = (x - mean) / sqrt(var + eps) * w[d] + b[d], per row (biased variance). out may alias x. */
    void layerNorm(Tensor x, Tensor w, Tensor b, float eps, Tensor out);

    /**
     * Rotary embedding in place, Hugging Face "rotate_half" layout, on x[n, heads * hd]: for each
     * head and i &lt; hd/2, with angle = p * invFreq[i], the pair (x[i], x[i + hd/2]) becomes
     * (x[i] cos - x[i+hd/2] sin, x[i+hd/2] cos + x[i] sin), both then times {@code scale} (the
     * "attention scaling" of some rope types; 1 for most). p is the row's position in the
     * section frequency i belongs to (see {@link RopePositions}): for 1-D rope the row's one
     * position, for M-RoPE its temporal, height or width position. invFreq has hd/2 values and
     * positions n rows.
     */
    void rope(Tensor x, RopePositions positions, int heads, int headDim, float[] invFreq, float scale);

    /**
     * 1-D rope, {@code positions[n]}: the same as {@link #rope(Tensor, RopePositions, int, int,
     * float[], float)} with {@link RopePositions#linear}.
     *
     * @deprecated pass {@link RopePositions}; kept until the callers have moved
     */
    @Deprecated
    default void rope(Tensor x, int[] positions, int heads, int headDim, float[] invFreq, float scale) {
        rope(x, RopePositions.linear(positions), heads, headDim, invFreq, scale);
    }

    /** out[n, f] = silu(gate) * up. out may alias gate or up. */
    void siluMul(Tensor gate, Tensor up, Tensor out);

    /** out = act(x), element-wise. out may alias x. */
    void activation(Activation act, Tensor x, Tensor out);

    /** out[n, d] = softmax(x) per row. out may alias x. */
    void softmax(Tensor x, Tensor out);

    /**
     * Scaled dot-product attention for one sequence over contiguous K/V with grouped-query heads:
     * q[n, hq*hd], k[n, hkv*hd], v[n, hkv*hd] -&gt; out[n, hq*hd]; query head h reads KV head
     * h / (hq / hkv). With {@code causal}, row i attends to rows 0..i, otherwise to all rows.
     */
    void attention(Tensor q, Tensor k, Tensor v, Tensor out,
                   int heads, int kvHeads, int headDim, float scale, boolean causal);

    /**
     * The KV pool of every layer in {@code dtype} (see {@link KvCache} for the layout), zeroed,
     * owned by this backend and released by {@link KvCache#close()} or when the backend closes.
     * Size it from {@link #memoryBudget()} and {@link KvCache#bytesPerBlock(int, int, int, int, DType)}.
     *
     * @throws IllegalArgumentException if a size is not positive, dtype is null, the byte count
     *     overflows, or numBlocks * blockSize exceeds the int range of slot ids
     * @throws IllegalStateException if the memory cannot be had; the message says how much was
     *     asked and how to allow more ({@link MemoryBudget#howToRaise()})
     */
    KvCache allocateKvCache(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim, DType dtype);

    /** An F32 KV pool: {@link #allocateKvCache(int, int, int, int, int, DType)} with {@link DType#F32}. */
    default KvCache allocateKvCache(int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim) {
        return allocateKvCache(numLayers, numBlocks, blockSize, kvHeads, headDim, DType.F32);
    }

    /**
     * The memory a KV pool could be allocated from now: for CPU backends the JVM's direct
     * (off-heap) memory left, for a GPU the device memory free. Asked once when an engine starts;
     * other users of that memory make it a snapshot, not a promise.
     */
    MemoryBudget memoryBudget();

    /**
     * Attention of a flattened batch of sequence segments over the paged KV cache.
     *
     * <p>q[T, hq*hd], k[T, hkv*hd], v[T, hkv*hd] are this step's new tokens (rope applied), T =
     * {@code batch.tokens()}. First row t's k and v are written into {@code batch.slot(t)} of
     * {@code layer}; then query row r of segment s, at position p = contextLen(s) - segLen(s) +
     * (r - queryStart(s)), attends causally to positions 0..p of its own sequence through the
     * block table; query head h reads KV head h / (hq / hkv). out[T, hq*hd] must not alias q.
     *
     * <p>Bit-exact: a query's output row is identical to the same row of the contiguous causal
     * {@link #attention} over the whole sequence, and so the same for a one-shot prefill, any
     * chunk of a chunked prefill or a decode step, whatever else is in the batch and whatever the
     * thread count. The engine's equality with naive full recompute rests on this.
     */
    void pagedAttention(Tensor q, Tensor k, Tensor v, KvCache cache, int layer, PagedBatch batch, Tensor out,
                        int heads, int kvHeads, int headDim, float scale);

    /** out[n, d] = table[ids[i], :], the table being a weight [V, d]. Ids are checked against V. */
    void embedding(Tensor table, int[] ids, Tensor out);

    /** out = a + b, element-wise over equal shapes. out may alias a or b. */
    void add(Tensor a, Tensor b, Tensor out);

    /** Index of the largest value of each row of x[n, V] (the first one on ties). */
    int[] argmax(Tensor x);

    /** Releases thread pools and any storage the backend still holds, KV caches included. */
    @Override
    void close();
}
