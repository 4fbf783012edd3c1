// Row reductions: one block of SPARKMM_BLOCK threads per row. Thread t folds elements t, t + 256, ...
// in ascending order, then sparkmm_block_sum/max combine the 256 partials in a fixed tree; the
// order depends only on the row length d, so a row's bits never depend on the batch around it.
// Each thread writes only elements it read itself after the reductions, which is what makes
// out == x (aliasing) safe.
#pragma once
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_rms_norm(const float* x, const void* w, int w_dtype, float eps, float* out, int n, int d) {
    __shared__ float scratch[32];
    const int64_t base = (int64_t) blockIdx.x * d;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        float v = x[base + j];
        ss = fmaf(v, v, ss);
    }
    ss = sparkmm_block_sum(ss, scratch);
    // IEEE sqrt and division (no fast math) so the scale matches the CPU backends to rounding
    const float inv = 1.0f / sqrtf(ss / (float) d + eps);
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        out[base + j] = x[base + j] * inv * sparkmm_load_dt(w, w_dtype, j);
    }
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_layer_norm(const float* x, const void* w, const void* b, int dtype, float eps, float* out, int n, int d) {
    __shared__ float scratch[32];
    const int64_t base = (int64_t) blockIdx.x * d;
    float s = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        s += x[base + j];
    }
    const float mean = sparkmm_block_sum(s, scratch) / (float) d;
    // Two passes (mean, then centred squares) rather than E[x^2] - mean^2, which cancels badly
    // for rows with a large mean; the variance is biased (divided by d) as in the reference.
    float var = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        float c = x[base + j] - mean;
        var = fmaf(c, c, var);
    }
    var = sparkmm_block_sum(var, scratch);
    const float inv = 1.0f / sqrtf(var / (float) d + eps);
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        out[base + j] = (x[base + j] - mean) * inv * sparkmm_load_dt(w, dtype, j) + sparkmm_load_dt(b, dtype, j);
    }
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_softmax(const float* x, float* out, int n, int d) {
    __shared__ float scratch[32];
    const int64_t base = (int64_t) blockIdx.x * d;
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        mx = fmaxf(mx, x[base + j]);
    }
    mx = sparkmm_block_max(mx, scratch);
    float s = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        float e = expf(x[base + j] - mx);
        out[base + j] = e;
        s += e;
    }
    s = sparkmm_block_sum(s, scratch);
    // divide rather than multiply by 1/s: one rounding per element, as in the reference
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        out[base + j] = out[base + j] / s;
    }
}

// A candidate beats another when larger, or equal and earlier: the reference's first-on-ties rule,
// which is associative, so the tree gives the same index as the sequential scan.
__device__ __forceinline__ bool sparkmm_better(float v, int i, float bv, int bi) {
    return v > bv || (v == bv && i < bi);
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_argmax(const float* x, int* out, int n, int d) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const int64_t base = (int64_t) blockIdx.x * d;
    // NaNs never win, as in the reference's `x[j] > x[best]` scan
    float bv = -INFINITY;
    int bi = 0x7fffffff;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        float v = x[base + j];
        if (sparkmm_better(v, j, bv, bi)) {
            bv = v;
            bi = j;
        }
    }
    for (int off = 16; off > 0; off >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, bv, off);
        int oi = __shfl_xor_sync(0xffffffffu, bi, off);
        if (sparkmm_better(ov, oi, bv, bi)) {
            bv = ov;
            bi = oi;
        }
    }
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    if (lane == 0) {
        sv[warp] = bv;
        si[warp] = bi;
    }
    __syncthreads();
    if (warp == 0) {
        bv = lane < (int) (blockDim.x >> 5) ? sv[lane] : -INFINITY;
        bi = lane < (int) (blockDim.x >> 5) ? si[lane] : 0x7fffffff;
        for (int off = 16; off > 0; off >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, off);
            int oi = __shfl_xor_sync(0xffffffffu, bi, off);
            if (sparkmm_better(ov, oi, bv, bi)) {
                bv = ov;
                bi = oi;
            }
        }
        if (lane == 0) {
            // The reference keeps index 0 when x[0] is NaN (nothing compares greater) or when every
            // value is NaN; the sentinel index also falls back to 0 there.
            out[blockIdx.x] = (isnan(x[base]) || bi == 0x7fffffff) ? 0 : bi;
        }
    }
}
