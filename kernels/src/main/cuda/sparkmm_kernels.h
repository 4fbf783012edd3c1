// The ABI between sparkmm's CUDA kernels (compiled by nvcc into one fatbin) and the Java
// CudaBackend, which launches them by name through the driver API (cuModuleGetFunction +
// cuLaunchKernel). Every kernel is extern "C" so its name is not mangled. Pointers are device
// pointers. Activations are F32; weights and the KV pool are stored as `dtype` codes:
//   0 = F32, 1 = BF16, 2 = F16   (mapped by name on the Java side, not by DType ordinal)
// Launch geometry is fixed per kernel (below) and mirrored by the Java side's LaunchGeometry;
// BLOCK is 256 threads unless stated. Every reduction runs in an order that depends only on the
// element's own inputs (row length, head dim, context length), never on how many rows are in the
// batch or on the SM count: a row's result is bit-identical alone or batched (batch invariance).
#pragma once
#include <stdint.h>

#define SPARKMM_BLOCK 256
#define SPARKMM_GEMM_TILE 64      // out tile is TILE x TILE; K consumed in steps of SPARKMM_GEMM_TK
#define SPARKMM_GEMM_TK 16
#define SPARKMM_ATTN_TILE 64      // KV positions per online-softmax step

extern "C" {

// out[n, m] = x[n, k] @ w[m, k]^T (+ bias[m] when bias != 0). bias is F32.
// grid (ceil(m / TILE), ceil(n / TILE)), block (16, 16) = 256 threads, each thread 4x4 outputs.
// K is reduced in ascending order in steps of TK, the same for every row: no split-K.
__global__ void sparkmm_matmul(const float* x, const void* w, int w_dtype, const float* bias, float* out,
                               int n, int k, int m);

// out[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * w; one block per row, grid (n). out may alias x.
__global__ void sparkmm_rms_norm(const float* x, const void* w, int w_dtype, float eps, float* out, int n, int d);

// out[r, :] = (x - mean) / sqrt(var + eps) * w + b (biased variance); one block per row, grid (n).
__global__ void sparkmm_layer_norm(const float* x, const void* w, const void* b, int dtype, float eps,
                                   float* out, int n, int d);

// Rotary embedding in place, rotate_half layout, on x[n, heads * hd]. positions[s * n + r] is row r's
// position in section s; section_of[i] (i < hd/2) is the section frequency i belongs to; inv_freq[hd/2].
// Pair (i, i + hd/2) rotates by angle positions[section_of[i]][r] * inv_freq[i] (angle in float,
// cos/sin in float), then both are multiplied by scale. grid (n), block (min(256, heads * hd/2)).
__global__ void sparkmm_rope(float* x, const int* positions, const int* section_of, const float* inv_freq,
                             int n, int heads, int hd, float scale);

// out = silu(gate) * up, element-wise over count. grid (ceil(count / 256)). out may alias gate or up.
__global__ void sparkmm_silu_mul(const float* gate, const float* up, float* out, int64_t count);

// out = act(x), element-wise. act: 0 silu, 1 gelu (erf), 2 gelu (tanh), 3 quick_gelu (x * sigmoid(1.702 x)).
// grid (ceil(count / 256)). out may alias x.
__global__ void sparkmm_activation(const float* x, float* out, int64_t count, int act);

// out[r, :] = softmax(x[r, :]); one block per row, grid (n). out may alias x.
__global__ void sparkmm_softmax(const float* x, float* out, int n, int d);

// out[r, :] = table[ids[r], :] widened to F32; grid (n). Ids are checked on the host.
__global__ void sparkmm_embedding(const void* table, int dtype, const int* ids, float* out, int n, int d);

// out = a + b, element-wise over count; grid (ceil(count / 256)). out may alias a or b.
__global__ void sparkmm_add(const float* a, const float* b, float* out, int64_t count);

// dst[i] = (float) src[i] for count elements of dtype; grid (ceil(count / 256)). For downloads of weights.
__global__ void sparkmm_to_f32(const void* src, int dtype, float* dst, int64_t count);

// Contiguous attention for one sequence: q[n, hq*hd], k/v[n, hkv*hd] -> out[n, hq*hd]; query head h
// reads KV head h / (hq / hkv); causal: row i sees rows 0..i, else all rows. grid (n, hq), block (hd
// rounded up to a multiple of 32, at most 256; hd <= 256). Online softmax over KV tiles of ATTN_TILE
// positions in ascending order.
__global__ void sparkmm_attention(const float* q, const float* k, const float* v, float* out,
                                  int n, int heads, int kv_heads, int hd, float scale, int causal);

// Writes this step's K/V rows into one layer's pool: k_cache/v_cache [num_blocks, block_size, hkv, hd]
// in kv_dtype (rounded to nearest even); slots[t] = block * block_size + offset of token row t.
// grid (tokens), block (min(256, hkv * hd)).
__global__ void sparkmm_kv_write(const float* k, const float* v, void* k_cache, void* v_cache, int kv_dtype,
                                 const int* slots, int tokens, int kv_heads, int hd);

// Paged attention of a flattened batch of segments over one layer's pool (after sparkmm_kv_write).
// q[T, hq*hd] -> out[T, hq*hd]. row_segment[t] = the segment of row t; query_start[S + 1] (prefix sums of
// segment lengths); context_lens[S]; block_tables[S * max_blocks + i] = i-th block of segment s. Query
// row r of segment s sits at position p = context_len - seg_len + (r - query_start[s]) and attends
// causally to positions 0..p through the block table, in ascending position order in tiles of
// ATTN_TILE: the same order for a one-shot prefill, a chunk or a decode step. grid (T, hq), block as
// sparkmm_attention.
__global__ void sparkmm_paged_attention(const float* q, float* out, const void* k_cache, const void* v_cache,
                                        int kv_dtype, const int* row_segment, const int* query_start,
                                        const int* context_lens, const int* block_tables, int max_blocks,
                                        int tokens, int block_size, int heads, int kv_heads, int hd, float scale);

// out[r] = the index of the largest x[r, :] (the first one on ties); one block per row, grid (n).
__global__ void sparkmm_argmax(const float* x, int* out, int n, int d);

}
