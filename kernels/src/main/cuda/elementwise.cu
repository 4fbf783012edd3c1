// Element-wise kernels: each output element depends on its own inputs only, so batch invariance
// holds trivially. Flat kernels use grid (ceil(count / 256)) with 64-bit indices, since a count can
// pass 2^31 (a vocabulary-sized weight converted to F32, a long prefill's MLP activations).
#pragma once
#include "common.cuh"

__device__ __forceinline__ int64_t sparkmm_flat_index() {
    return (int64_t) blockIdx.x * SPARKMM_BLOCK + threadIdx.x;
}

__device__ __forceinline__ float sparkmm_silu(float v) {
    return v / (1.0f + expf(-v));
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_silu_mul(const float* gate, const float* up, float* out, int64_t count) {
    int64_t i = sparkmm_flat_index();
    if (i < count) {
        out[i] = sparkmm_silu(gate[i]) * up[i];
    }
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_activation(const float* x, float* out, int64_t count, int act) {
    int64_t i = sparkmm_flat_index();
    if (i >= count) {
        return;
    }
    float v = x[i];
    float r;
    switch (act) {
        case 1:  // erf GELU
            r = 0.5f * v * (1.0f + erff(v * 0.7071067811865476f));
            break;
        case 2: {  // tanh GELU
            float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
            r = 0.5f * v * (1.0f + tanhf(inner));
            break;
        }
        case 3:  // quick GELU
            r = v / (1.0f + expf(-1.702f * v));
            break;
        default:
            r = sparkmm_silu(v);
            break;
    }
    out[i] = r;
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_add(const float* a, const float* b, float* out, int64_t count) {
    int64_t i = sparkmm_flat_index();
    if (i < count) {
        out[i] = a[i] + b[i];
    }
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_to_f32(const void* src, int dtype, float* dst, int64_t count) {
    int64_t i = sparkmm_flat_index();
    if (i < count) {
        dst[i] = sparkmm_load_dt(src, dtype, i);
    }
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_embedding(const void* table, int dtype, const int* ids, float* out, int n, int d) {
    const int64_t src = (int64_t) ids[blockIdx.x] * d;
    const int64_t dst = (int64_t) blockIdx.x * d;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        out[dst + j] = sparkmm_load_dt(table, dtype, src + j);
    }
}

// One block per row; a thread takes (head, frequency) pairs strided by blockDim, so any block size
// the host picks (min(256, heads * hd / 2)) covers the row.
extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_rope(float* x, const int* positions, const int* section_of, const float* inv_freq,
             int n, int heads, int hd, float scale) {
    const int r = blockIdx.x;
    const int half = hd / 2;
    const int pairs = heads * half;
    float* row = x + (int64_t) r * heads * hd;
    for (int idx = threadIdx.x; idx < pairs; idx += blockDim.x) {
        const int h = idx / half;
        const int f = idx - h * half;
        const int pos = positions[(int64_t) section_of[f] * n + r];
        const float angle = (float) pos * inv_freq[f];
        // cos/sin in double, rounded once to float: the reference's (float) Math.cos(angle), which
        // CUDA's single-precision cosf (up to 2 ulp, worse for large angles) would not match
        const float c = (float) cos((double) angle) * scale;
        const float s = (float) sin((double) angle) * scale;
        float* p = row + h * hd;
        const float a = p[f];
        const float b = p[f + half];
        p[f] = a * c - b * s;
        p[f + half] = b * c + a * s;
    }
}
