package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.cuda.CudaApi.Dim3;

/**
 * Grid, block and dynamic shared memory of each kernel, from shapes, exactly as the ABI header
 * fixes them (the kernels index by blockIdx/threadIdx under these assumptions, so the two must
 * agree). Pure: no driver, unit-tested on the CPU.
 *
 * <p>No kernel of the ABI asks for dynamic shared memory (their tiles are static
 * {@code __shared__} arrays), so every launch passes 0 bytes; the limit check stays so that a
 * kernel that starts using it cannot exceed the 48 KB a launch gets without opting in.
 */
public final class LaunchGeometry {

    public static final int BLOCK = 256;
    public static final int GEMM_TILE = 64;
    public static final int GEMM_TK = 16;
    public static final int ATTN_TILE = 64;
    public static final int MAX_THREADS_PER_BLOCK = 1024;
    public static final int DEFAULT_MAX_SHARED_BYTES = 48 * 1024;
    /** Head dims the attention kernels handle: one thread per dimension, at most a block of 256. */
    public static final int MAX_HEAD_DIM = 256;
    static final int MAX_GRID_X = Integer.MAX_VALUE;
    static final int MAX_GRID_YZ = 65535;

    private LaunchGeometry() {
    }

    /** One launch's configuration; an empty grid (some dimension 0) means there is nothing to do. */
    public record Launch(Dim3 grid, Dim3 block, int sharedBytes) {

        public Launch {
            long threads = block.volume();
            if (block.x() <= 0 || block.y() <= 0 || block.z() <= 0 || threads > MAX_THREADS_PER_BLOCK) {
                throw new IllegalArgumentException("block " + block + " must have 1.." + MAX_THREADS_PER_BLOCK + " threads");
            }
            if (grid.x() < 0 || grid.y() < 0 || grid.z() < 0 || grid.y() > MAX_GRID_YZ || grid.z() > MAX_GRID_YZ) {
                throw new IllegalArgumentException("grid " + grid + " outside the device limits (x < 2^31, y and z <= "
                        + MAX_GRID_YZ + ")");
            }
            if (sharedBytes < 0 || sharedBytes > DEFAULT_MAX_SHARED_BYTES) {
                throw new IllegalArgumentException(sharedBytes + " shared bytes exceed the default "
                        + DEFAULT_MAX_SHARED_BYTES + " of a launch");
            }
        }

        public boolean isEmpty() {
            return grid.volume() == 0;
        }
    }

    /** Blocks of {@code per} covering {@code count}, as a grid dimension. */
    static int blocksFor(long count, int per, String what) {
        if (count < 0) {
            throw new IllegalArgumentException(what + ": negative size " + count);
        }
        long blocks = (count + per - 1) / per;
        if (blocks > MAX_GRID_X) {
            throw new IllegalArgumentException(what + ": " + count + " elements need " + blocks
                    + " blocks, more than a grid holds");
        }
        return (int) blocks;
    }

    /** sparkmm_matmul: grid (ceil(m / 64), ceil(n / 64)), block (16, 16): each thread 4 x 4 outputs. */
    public static Launch matmul(int n, int k, int m) {
        if (k <= 0) {
            throw new IllegalArgumentException("matmul: k must be positive, got " + k);
        }
        int gy = blocksFor(n, GEMM_TILE, "matmul rows");
        if (gy > MAX_GRID_YZ) {
            throw new IllegalArgumentException("matmul: " + n + " rows need " + gy + " row tiles, more than "
                    + MAX_GRID_YZ + "; split the batch");
        }
        return new Launch(Dim3.of(blocksFor(m, GEMM_TILE, "matmul columns"), gy), Dim3.of(16, 16), 0);
    }

    /** One block of 256 per row: rms_norm, layer_norm, softmax, embedding, argmax. */
    public static Launch perRow(int rows) {
        return new Launch(Dim3.of(checkedRows(rows)), Dim3.of(BLOCK), 0);
    }

    /** Element-wise over {@code count}: silu_mul, activation, add, to_f32. */
    public static Launch elementwise(long count) {
        return new Launch(Dim3.of(blocksFor(count, BLOCK, "element-wise op")), Dim3.of(BLOCK), 0);
    }

    /** sparkmm_rope: grid (n), block (min(256, heads * hd / 2)). */
    public static Launch rope(int n, int heads, int headDim) {
        if (heads <= 0 || headDim < 2 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rope: " + heads + " heads of dim " + headDim
                    + "; heads must be positive and the head dim even");
        }
        long pairs = (long) heads * (headDim / 2);
        return new Launch(Dim3.of(checkedRows(n)), Dim3.of((int) Math.min(BLOCK, pairs)), 0);
    }

    /** sparkmm_attention and sparkmm_paged_attention: grid (rows, heads), block (hd rounded up to 32). */
    public static Launch attention(int rows, int heads, int headDim) {
        if (headDim <= 0 || headDim > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("attention: head dim " + headDim + " outside 1.." + MAX_HEAD_DIM
                    + ", what the CUDA attention kernels handle");
        }
        if (heads <= 0 || heads > MAX_GRID_YZ) {
            throw new IllegalArgumentException("attention: " + heads + " heads outside 1.." + MAX_GRID_YZ);
        }
        return new Launch(Dim3.of(checkedRows(rows), heads), Dim3.of((headDim + 31) / 32 * 32), 0);
    }

    /** sparkmm_kv_write: grid (tokens), block (min(256, hkv * hd)). */
    public static Launch kvWrite(int tokens, int kvHeads, int headDim) {
        if (kvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("kv_write: " + kvHeads + " KV heads of dim " + headDim);
        }
        return new Launch(Dim3.of(checkedRows(tokens)), Dim3.of((int) Math.min(BLOCK, (long) kvHeads * headDim)), 0);
    }

    private static int checkedRows(int rows) {
        if (rows < 0) {
            throw new IllegalArgumentException("negative row count " + rows);
        }
        return rows;
    }
}
