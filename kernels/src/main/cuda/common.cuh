// Helpers shared by the sparkmm kernels: dtype widening/rounding and fixed-shape block reductions.
// Internal to the fatbin (not part of the ABI in sparkmm_kernels.h).
#pragma once
#include <stdint.h>
#include <math.h>
#include "sparkmm_kernels.h"

#define SPARKMM_DT_F32 0
#define SPARKMM_DT_BF16 1
#define SPARKMM_DT_F16 2

// Widening is exact for every dtype, so a value reads the same from any storage; bit math keeps
// the kernels free of cuda_bf16.h, which NVRTC-based tool chains do not ship.
__device__ __forceinline__ float sparkmm_bf16_to_f32(uint16_t bits) {
    return __uint_as_float(((uint32_t) bits) << 16);
}

__device__ __forceinline__ float sparkmm_f16_to_f32(uint16_t h) {
    uint32_t sign = ((uint32_t) (h >> 15)) << 31;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) {
        return __uint_as_float(sign | 0x7f800000u | (mant << 13));
    }
    if (exp == 0) {
        // subnormal: mant * 2^-24 is exact in F32
        float v = (float) mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return __uint_as_float(sign | ((exp + 112) << 23) | (mant << 13));
}

// Round to nearest, ties to even, NaN kept quiet: the same bits as the CPU backends' Half.bf16FromFloat,
// so a BF16 KV pool holds identical values on every backend.
__device__ __forceinline__ uint16_t sparkmm_f32_to_bf16(float f) {
    uint32_t x = __float_as_uint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t) ((x >> 16) | 0x40);
    }
    uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t) ((x + rounding) >> 16);
}

// Mirrors Half.fromFloat bit for bit (including NaN payloads and subnormals) for the same reason.
__device__ __forceinline__ uint16_t sparkmm_f32_to_f16(float f) {
    uint32_t x = __float_as_uint(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    int exp = (int) ((x >> 23) & 0xff);
    uint32_t mant = x & 0x7fffffu;
    if (exp == 0xff) {
        return (uint16_t) (sign | 0x7c00u | (mant != 0 ? 0x200u : 0u));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
        return (uint16_t) (sign | 0x7c00u);
    }
    if (e <= 0) {
        if (e < -10) {
            return (uint16_t) sign;
        }
        mant |= 0x800000u;
        int shift = 14 - e;
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u) != 0)) {
            half++;
        }
        return (uint16_t) (sign | half);
    }
    uint32_t half = ((uint32_t) e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u) != 0)) {
        half++;
    }
    return (uint16_t) (sign | half);
}

// Compile-time dtype so the hot loops carry no per-element switch.
template <int DT>
__device__ __forceinline__ float sparkmm_load(const void* p, int64_t i) {
    if (DT == SPARKMM_DT_F32) {
        return ((const float*) p)[i];
    } else if (DT == SPARKMM_DT_BF16) {
        return sparkmm_bf16_to_f32(((const uint16_t*) p)[i]);
    } else {
        return sparkmm_f16_to_f32(((const uint16_t*) p)[i]);
    }
}

// Run-time dtype, for loops where the branch is uniform and cheap next to the memory traffic.
__device__ __forceinline__ float sparkmm_load_dt(const void* p, int dtype, int64_t i) {
    if (dtype == SPARKMM_DT_BF16) {
        return sparkmm_load<SPARKMM_DT_BF16>(p, i);
    }
    if (dtype == SPARKMM_DT_F16) {
        return sparkmm_load<SPARKMM_DT_F16>(p, i);
    }
    return sparkmm_load<SPARKMM_DT_F32>(p, i);
}

// Fixed-shape tree over a warp: the pairing depends only on lane ids, so the result is the same
// bits whatever data other warps or blocks hold.
__device__ __forceinline__ float sparkmm_warp_sum(float v) {
    for (int off = 16; off > 0; off >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, off);
    }
    return v;
}

__device__ __forceinline__ float sparkmm_warp_max(float v) {
    for (int off = 16; off > 0; off >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
    }
    return v;
}

// Block-wide sum for blocks of a multiple of 32 threads (at most 1024), result broadcast to every
// thread. Warp trees, then warp 0 folds the per-warp sums in a tree of the same shape; `scratch`
// needs 32 floats. The shape depends only on blockDim, which the ABI fixes per kernel.
__device__ __forceinline__ float sparkmm_block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int warps = blockDim.x >> 5;
    v = sparkmm_warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous reduction
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : 0.0f;
        w = sparkmm_warp_sum(w);
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}

__device__ __forceinline__ float sparkmm_block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int warps = blockDim.x >> 5;
    v = sparkmm_warp_max(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : -INFINITY;
        w = sparkmm_warp_max(w);
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}
