package io.sparkmm.kernels.cpu;

import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.Tensor;

/** Argument checks shared by the CPU backends; each message names the op and the shapes. */
public final class Checks {

    private Checks() {
    }

    public static void equal(String what, long actual, long expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(what + ": expected " + expected + ", got " + actual);
        }
    }

    public static void sameShape(String op, Tensor a, Tensor b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException(op + ": shapes differ: " + Tensor.describe(a.shape())
                    + " vs " + Tensor.describe(b.shape()));
        }
    }

    public static void rowRange(String what, Tensor t, int start, int count) {
        if (start < 0 || count < 0 || start + count > t.rows()) {
            throw new IllegalArgumentException(what + ": rows [" + start + ", " + (start + count)
                    + ") outside " + Tensor.describe(t.shape()));
        }
    }

    public static void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        if (x.cols() != w.cols() || out.rows() != x.rows() || out.cols() != w.rows()) {
            throw new IllegalArgumentException("matmul: x " + Tensor.describe(x.shape()) + " @ w "
                    + Tensor.describe(w.shape()) + "^T does not fit out " + Tensor.describe(out.shape()));
        }
        if (bias != null && bias.size() != w.rows()) {
            throw new IllegalArgumentException("matmul: bias " + Tensor.describe(bias.shape())
                    + " does not match w " + Tensor.describe(w.shape()));
        }
    }

    public static void attention(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int kvHeads, int headDim) {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("attention: " + heads + " query heads are not a multiple of "
                    + kvHeads + " KV heads");
        }
        int n = q.rows();
        equal("attention q cols", q.cols(), (long) heads * headDim);
        equal("attention k cols", k.cols(), (long) kvHeads * headDim);
        equal("attention v cols", v.cols(), (long) kvHeads * headDim);
        equal("attention k rows", k.rows(), n);
        equal("attention v rows", v.rows(), n);
        sameShape("attention out", q, out);
    }

    /**
     * Shapes of {@code pagedAttention}: q/out [T, hq*hd] and k/v [T, hkv*hd] with T the batch's
     * rows; heads and block size as the cache has them; every block id the batch touches inside
     * the pool.
     */
    public static void pagedAttention(Tensor q, Tensor k, Tensor v, Tensor out, KvCache cache, int layer,
                                      PagedBatch batch, int heads, int kvHeads, int headDim) {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("pagedAttention: " + heads + " query heads are not a multiple of "
                    + kvHeads + " KV heads");
        }
        if (kvHeads != cache.kvHeads() || headDim != cache.headDim() || batch.blockSize() != cache.blockSize()) {
            throw new IllegalArgumentException("pagedAttention: " + kvHeads + " KV heads of dim " + headDim
                    + " in blocks of " + batch.blockSize() + " do not match the cache's " + cache.kvHeads()
                    + " x " + cache.headDim() + " in blocks of " + cache.blockSize());
        }
        if (layer < 0 || layer >= cache.numLayers()) {
            throw new IllegalArgumentException("pagedAttention: layer " + layer + " outside the cache's "
                    + cache.numLayers() + " layers");
        }
        int n = batch.tokens();
        equal("pagedAttention q rows (batch tokens)", q.rows(), n);
        equal("pagedAttention q cols", q.cols(), (long) heads * headDim);
        equal("pagedAttention k rows (batch tokens)", k.rows(), n);
        equal("pagedAttention k cols", k.cols(), (long) kvHeads * headDim);
        equal("pagedAttention v rows (batch tokens)", v.rows(), n);
        equal("pagedAttention v cols", v.cols(), (long) kvHeads * headDim);
        sameShape("pagedAttention out", q, out);
        int maxBlock = batch.maxBlock();
        if (maxBlock >= cache.numBlocks()) {
            throw new IllegalArgumentException("pagedAttention: block " + maxBlock + " outside the cache's "
                    + cache.numBlocks() + " blocks");
        }
    }

    /** CPU devices have one index, 0: the machine's cores are used through threads, not indices. */
    public static void cpuDeviceIndex(String name, int index) {
        if (index != 0) {
            throw new IllegalArgumentException("device '" + name + ":" + index + "' does not exist: the CPU is one"
                    + " device, '" + name + "' (or '" + name + ":0'), whose cores it uses through threads");
        }
    }

    public static void tokenId(int id, int vocab) {
        if (id < 0 || id >= vocab) {
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + vocab + ")");
        }
    }
}
