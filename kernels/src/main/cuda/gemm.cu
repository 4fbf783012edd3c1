// out[n, m] = x[n, k] @ w[m, k]^T (+ bias): shared-memory tiles of 64 x 64 outputs, K in steps of 16,
// each of the 16 x 16 threads owning a 4 x 4 register block. Every output sums its K products in
// ascending order with one accumulator and adds the bias last, so its bits depend only on its own row
// of x and row of w: no split-K, nothing that varies with n (batch invariance).
#pragma once
#include "common.cuh"

#define GT SPARKMM_GEMM_TILE
#define GK SPARKMM_GEMM_TK
// +4 keeps rows 16-byte aligned for float4 reads while shifting banks between K steps
#define GPAD (GT + 4)

template <int DT>
__device__ __forceinline__ void sparkmm_matmul_impl(const float* __restrict__ x, const void* __restrict__ w,
                                                    const float* __restrict__ bias, float* __restrict__ out,
                                                    int n, int k, int m,
                                                    float (*xs)[GPAD], float (*ws)[GPAD]) {

    const int tx = threadIdx.x;  // column group
    const int ty = threadIdx.y;  // row group
    const int tid = ty * 16 + tx;
    const int row0 = blockIdx.y * GT;
    const int col0 = blockIdx.x * GT;

    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            acc[i][j] = 0.0f;
        }
    }

    for (int k0 = 0; k0 < k; k0 += GK) {
        // 64 x 16 elements per tile, 4 per thread; consecutive threads walk K so global reads of a
        // row are contiguous. Rows past n and columns past m load zeros; their outputs are never stored.
#pragma unroll
        for (int l = 0; l < 4; l++) {
            int e = tid + l * 256;
            int r = e / GK;
            int kk = e % GK;
            int gk = k0 + kk;
            int gr = row0 + r;
            int gc = col0 + r;
            xs[kk][r] = (gr < n && gk < k) ? x[(int64_t) gr * k + gk] : 0.0f;
            ws[kk][r] = (gc < m && gk < k) ? sparkmm_load<DT>(w, (int64_t) gc * k + gk) : 0.0f;
        }
        __syncthreads();
        int kmax = min(GK, k - k0);
        // The tail step stops at k rather than adding padded zeros, so an output's sum is exactly its
        // k products in order, the same for every row whatever its tile.
        for (int kk = 0; kk < kmax; kk++) {
            float4 a = *reinterpret_cast<const float4*>(&xs[kk][ty * 4]);
            float4 b = *reinterpret_cast<const float4*>(&ws[kk][tx * 4]);
            float av[4] = {a.x, a.y, a.z, a.w};
            float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
            for (int i = 0; i < 4; i++) {
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
                }
            }
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 4; i++) {
        int gr = row0 + ty * 4 + i;
        if (gr >= n) {
            continue;
        }
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int gc = col0 + tx * 4 + j;
            if (gc < m) {
                float v = acc[i][j];
                if (bias != nullptr) {
                    v += bias[gc];
                }
                out[(int64_t) gr * m + gc] = v;
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
sparkmm_matmul(const float* x, const void* w, int w_dtype, const float* bias, float* out, int n, int k, int m) {
    // Declared here, not in the template, so the three instantiations share one allocation.
    // K-major: the inner loop reads 4 consecutive rows (or columns) as one float4.
    __shared__ __align__(16) float xs[GK][GPAD];
    __shared__ __align__(16) float ws[GK][GPAD];
    if (w_dtype == SPARKMM_DT_BF16) {
        sparkmm_matmul_impl<SPARKMM_DT_BF16>(x, w, bias, out, n, k, m, xs, ws);
    } else if (w_dtype == SPARKMM_DT_F16) {
        sparkmm_matmul_impl<SPARKMM_DT_F16>(x, w, bias, out, n, k, m, xs, ws);
    } else {
        sparkmm_matmul_impl<SPARKMM_DT_F32>(x, w, bias, out, n, k, m, xs, ws);
    }
}
