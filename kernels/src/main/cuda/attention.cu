// Attention, FlashAttention-style: one block per (query row, query head), the KV positions 0..last
// visited in ascending tiles of SPARKMM_ATTN_TILE with an online softmax. Contiguous and paged
// attention share sparkmm_attend and differ only in how a position maps to a K/V row, so a paged
// query gives the same bits as the contiguous causal one whenever the stored K/V hold the same
// values (always for an F32 pool), and the same for a prefill, a chunk or a decode step: the tile
// boundaries are fixed multiples of the tile from position 0 and no reduction depends on the batch.
#pragma once
#include "common.cuh"

#define AT SPARKMM_ATTN_TILE
#define SPARKMM_MAX_HEAD_DIM 256

// Offset of element 0 of (position, KV head) in a contiguous [n, kv_heads * hd] K or V.
struct SparkmmContiguous {
    int kv_heads;
    int hd;
    __device__ __forceinline__ int64_t operator()(int pos, int kvh) const {
        return ((int64_t) pos * kv_heads + kvh) * hd;
    }
};

// Offset in a paged pool [num_blocks, block_size, kv_heads, hd], through one segment's block table.
struct SparkmmPaged {
    const int* table;
    int block_size;
    int kv_heads;
    int hd;
    __device__ __forceinline__ int64_t operator()(int pos, int kvh) const {
        int64_t slot = (int64_t) table[pos / block_size] * block_size + pos % block_size;
        return (slot * kv_heads + kvh) * hd;
    }
};

// out[c] = sum_j softmax_j(scale * q . k_j) v_j[c] over j in [0, last]. Thread c owns output dim c.
// A dot product is computed by one warp, lane l summing dims l, l + 32, ... in order, then the fixed
// xor tree: its bits depend only on hd, not on which warp takes the position. The running max and
// sum are kept redundantly (identically) by every thread, which saves a broadcast per tile.
template <int DT, class Addr>
__device__ __forceinline__ void sparkmm_attend(const float* __restrict__ q, float* __restrict__ out,
                                               const void* __restrict__ kc, const void* __restrict__ vc,
                                               Addr addr, int kvh, int last, int hd, float scale,
                                               float* q_s, float* p_s) {
    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int warps = blockDim.x >> 5;
    if (hd > (int) blockDim.x || hd > SPARKMM_MAX_HEAD_DIM) {
        __trap();  // the host's geometry is wrong; fail the launch rather than write partial rows
    }
    if (tid < hd) {
        q_s[tid] = q[tid];
    }
    __syncthreads();

    float m = -INFINITY;
    float l = 0.0f;
    float acc = 0.0f;
    for (int t0 = 0; t0 <= last; t0 += AT) {
        const int cnt = min(AT, last + 1 - t0);
        for (int j = warp; j < cnt; j += warps) {
            const int64_t off = addr(t0 + j, kvh);
            float part = 0.0f;
            for (int c = lane; c < hd; c += 32) {
                part = fmaf(q_s[c], sparkmm_load<DT>(kc, off + c), part);
            }
            part = sparkmm_warp_sum(part);
            if (lane == 0) {
                p_s[j] = part * scale;
            }
        }
        __syncthreads();
        float tmax = -INFINITY;
        for (int j = 0; j < cnt; j++) {
            tmax = fmaxf(tmax, p_s[j]);
        }
        const float mnew = fmaxf(m, tmax);
        // exp(-inf) = 0 on the first tile, when nothing has been accumulated yet
        const float alpha = expf(m - mnew);
        __syncthreads();  // every thread has read the scores before they become probabilities
        // strided: a block of 32 threads (hd <= 32) still covers a tile of 64 positions
        for (int j = tid; j < cnt; j += blockDim.x) {
            p_s[j] = expf(p_s[j] - mnew);
        }
        __syncthreads();
        float psum = 0.0f;
        float pv = 0.0f;
        for (int j = 0; j < cnt; j++) {
            const float p = p_s[j];
            psum += p;
            if (tid < hd) {
                pv = fmaf(p, sparkmm_load<DT>(vc, addr(t0 + j, kvh) + tid), pv);
            }
        }
        l = l * alpha + psum;
        acc = acc * alpha + pv;
        m = mnew;
        __syncthreads();  // p_s is overwritten by the next tile's scores
    }
    if (tid < hd) {
        out[tid] = acc / l;
    }
}

extern "C" __global__ void __launch_bounds__(SPARKMM_MAX_HEAD_DIM)
sparkmm_attention(const float* q, const float* k, const float* v, float* out,
                  int n, int heads, int kv_heads, int hd, float scale, int causal) {
    __shared__ float q_s[SPARKMM_MAX_HEAD_DIM];
    __shared__ float p_s[AT];
    const int row = blockIdx.x;
    const int h = blockIdx.y;
    const int kvh = h / (heads / kv_heads);
    const int64_t qoff = ((int64_t) row * heads + h) * hd;
    SparkmmContiguous addr{kv_heads, hd};
    sparkmm_attend<SPARKMM_DT_F32>(q + qoff, out + qoff, k, v, addr, kvh, causal ? row : n - 1, hd, scale,
                                   q_s, p_s);
}

extern "C" __global__ void __launch_bounds__(SPARKMM_BLOCK)
sparkmm_kv_write(const float* k, const float* v, void* k_cache, void* v_cache, int kv_dtype,
                 const int* slots, int tokens, int kv_heads, int hd) {
    const int t = blockIdx.x;
    const int width = kv_heads * hd;
    const int64_t src = (int64_t) t * width;
    const int64_t dst = (int64_t) slots[t] * width;
    for (int i = threadIdx.x; i < width; i += blockDim.x) {
        const float kv = k[src + i];
        const float vv = v[src + i];
        if (kv_dtype == SPARKMM_DT_BF16) {
            ((uint16_t*) k_cache)[dst + i] = sparkmm_f32_to_bf16(kv);
            ((uint16_t*) v_cache)[dst + i] = sparkmm_f32_to_bf16(vv);
        } else if (kv_dtype == SPARKMM_DT_F16) {
            ((uint16_t*) k_cache)[dst + i] = sparkmm_f32_to_f16(kv);
            ((uint16_t*) v_cache)[dst + i] = sparkmm_f32_to_f16(vv);
        } else {
            ((float*) k_cache)[dst + i] = kv;
            ((float*) v_cache)[dst + i] = vv;
        }
    }
}

extern "C" __global__ void __launch_bounds__(SPARKMM_MAX_HEAD_DIM)
sparkmm_paged_attention(const float* q, float* out, const void* k_cache, const void* v_cache,
                        int kv_dtype, const int* row_segment, const int* query_start,
                        const int* context_lens, const int* block_tables, int max_blocks,
                        int tokens, int block_size, int heads, int kv_heads, int hd, float scale) {
    __shared__ float q_s[SPARKMM_MAX_HEAD_DIM];
    __shared__ float p_s[AT];
    const int row = blockIdx.x;
    const int h = blockIdx.y;
    const int kvh = h / (heads / kv_heads);
    const int s = row_segment[row];
    const int start = query_start[s];
    const int seg_len = query_start[s + 1] - start;
    const int last = context_lens[s] - seg_len + (row - start);
    const int64_t qoff = ((int64_t) row * heads + h) * hd;
    SparkmmPaged addr{block_tables + (int64_t) s * max_blocks, block_size, kv_heads, hd};
    if (kv_dtype == SPARKMM_DT_BF16) {
        sparkmm_attend<SPARKMM_DT_BF16>(q + qoff, out + qoff, k_cache, v_cache, addr, kvh, last, hd, scale, q_s, p_s);
    } else if (kv_dtype == SPARKMM_DT_F16) {
        sparkmm_attend<SPARKMM_DT_F16>(q + qoff, out + qoff, k_cache, v_cache, addr, kvh, last, hd, scale, q_s, p_s);
    } else {
        sparkmm_attend<SPARKMM_DT_F32>(q + qoff, out + qoff, k_cache, v_cache, addr, kvh, last, hd, scale, q_s, p_s);
    }
}
