// Standalone GPU self-test of the sparkmm kernels: each kernel on small random inputs against a plain
// CPU loop (double accumulators) in this file, plus the bit-exact promises (paged == contiguous
// attention, a row alone == the same row batched). Needs no Java, so it is the first thing to run on
// a GPU machine:  scripts/build-kernels.sh --selftest /tmp/selftest && /tmp/selftest
// Prints one line per check; exits 1 if any error exceeds its tolerance (1e-4 of the reference's
// largest magnitude for F32 paths).
#include "all.cu"

#include <cuda_fp16.h>  // an independent F16 conversion to check the kernels' bit math against

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <vector>
#include <random>

static int failures = 0;
static std::mt19937 rng(1234);

#define CK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_), __FILE__, __LINE__, cudaGetErrorString(e_)); \
    std::exit(2); } } while (0)

static std::vector<float> rnd(size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

template <class T> static T* dev(const std::vector<T>& h) {
    T* p = nullptr;
    CK(cudaMalloc(&p, std::max<size_t>(1, h.size()) * sizeof(T)));
    CK(cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    return p;
}
template <class T> static std::vector<T> host(const T* p, size_t n) {
    std::vector<T> h(n);
    CK(cudaDeviceSynchronize());
    CK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}
static float* zeros(size_t n) { return dev(std::vector<float>(n, 0.0f)); }

// Host copies of the device conversions (same bit math) for building BF16/F16 inputs.
static uint16_t bf16(float f) { uint32_t x; std::memcpy(&x, &f, 4); return (uint16_t) ((x + 0x7fffu + ((x >> 16) & 1u)) >> 16); }
static float from_bf16(uint16_t b) { uint32_t x = (uint32_t) b << 16; float f; std::memcpy(&f, &x, 4); return f; }
static uint16_t f16(float f) { return __half_as_ushort(__float2half_rn(f)); }
static float from_f16(uint16_t h) { return __half2float(__ushort_as_half(h)); }

static void report(const char* name, const std::vector<float>& got, const std::vector<double>& want, double tol) {
    double err = 0.0, mag = 1e-30;
    for (size_t i = 0; i < want.size(); i++) {
        err = std::max(err, std::fabs((double) got[i] - want[i]));
        mag = std::max(mag, std::fabs(want[i]));
        if (std::isnan(got[i])) err = INFINITY;
    }
    bool ok = err <= tol * mag;
    if (!ok) failures++;
    std::printf("%-34s max abs err %.3e (ref max %.3e, tol %.0e rel) %s\n", name, err, mag, tol, ok ? "ok" : "FAIL");
}

static void exact(const char* name, const void* a, const void* b, size_t bytes) {
    bool ok = std::memcmp(a, b, bytes) == 0;
    if (!ok) failures++;
    std::printf("%-34s %s\n", name, ok ? "bit-identical ok" : "DIFFERS FAIL");
}

static void test_matmul(int dt, const char* name) {
    const int n = 37, k = 70, m = 45;
    auto x = rnd((size_t) n * k), w = rnd((size_t) m * k), bias = rnd(m);
    std::vector<float> wv(w.size());
    std::vector<uint16_t> wh(w.size());
    for (size_t i = 0; i < w.size(); i++) {
        wh[i] = dt == 1 ? bf16(w[i]) : f16(w[i]);
        wv[i] = dt == 0 ? w[i] : dt == 1 ? from_bf16(wh[i]) : from_f16(wh[i]);
    }
    float* dx = dev(x); float* db = dev(bias); float* dout = zeros((size_t) n * m);
    void* dw = dt == 0 ? (void*) dev(w) : (void*) dev(wh);
    dim3 grid((m + 63) / 64, (n + 63) / 64), block(16, 16);
    sparkmm_matmul<<<grid, block>>>(dx, dw, dt, db, dout, n, k, m);
    CK(cudaGetLastError());
    auto got = host(dout, (size_t) n * m);
    std::vector<double> want((size_t) n * m);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) acc += (double) x[(size_t) i * k + p] * wv[(size_t) j * k + p];
            want[(size_t) i * m + j] = acc + bias[j];
        }
    report(name, got, want, 1e-4);
    if (dt == 0) {
        // batch invariance: row 5 computed alone gives the bits it had in the batch of 37
        float* drow = zeros(m);
        sparkmm_matmul<<<dim3((m + 63) / 64, 1), block>>>(dx + 5 * k, dw, dt, db, drow, 1, k, m);
        auto alone = host(drow, m);
        exact("matmul row alone vs batched", alone.data(), got.data() + 5 * m, m * sizeof(float));
        CK(cudaFree(drow));
    }
    CK(cudaFree(dx)); CK(cudaFree(db)); CK(cudaFree(dout)); CK(cudaFree(dw));
}

static void test_norms() {
    const int n = 5, d = 1000;
    auto x = rnd((size_t) n * d, -3, 3), w = rnd(d), b = rnd(d);
    float *dx = dev(x), *dw = dev(w), *db = dev(b), *dout = zeros(x.size());
    std::vector<double> want(x.size());
    sparkmm_rms_norm<<<n, SPARKMM_BLOCK>>>(dx, dw, 0, 1e-6f, dout, n, d);
    for (int r = 0; r < n; r++) {
        double ss = 0; for (int j = 0; j < d; j++) ss += (double) x[r * d + j] * x[r * d + j];
        double inv = 1.0 / std::sqrt(ss / d + 1e-6);
        for (int j = 0; j < d; j++) want[r * d + j] = x[r * d + j] * inv * w[j];
    }
    report("rms_norm", host(dout, x.size()), want, 1e-4);
    sparkmm_layer_norm<<<n, SPARKMM_BLOCK>>>(dx, dw, db, 0, 1e-5f, dout, n, d);
    for (int r = 0; r < n; r++) {
        double s = 0, v = 0; for (int j = 0; j < d; j++) s += x[r * d + j];
        double mean = s / d; for (int j = 0; j < d; j++) v += (x[r * d + j] - mean) * (x[r * d + j] - mean);
        double inv = 1.0 / std::sqrt(v / d + 1e-5);
        for (int j = 0; j < d; j++) want[r * d + j] = (x[r * d + j] - mean) * inv * w[j] + b[j];
    }
    report("layer_norm", host(dout, x.size()), want, 1e-4);
    sparkmm_softmax<<<n, SPARKMM_BLOCK>>>(dx, dout, n, d);
    for (int r = 0; r < n; r++) {
        double mx = -INFINITY, s = 0; for (int j = 0; j < d; j++) mx = std::max(mx, (double) x[r * d + j]);
        for (int j = 0; j < d; j++) s += std::exp(x[r * d + j] - mx);
        for (int j = 0; j < d; j++) want[r * d + j] = std::exp(x[r * d + j] - mx) / s;
    }
    report("softmax", host(dout, x.size()), want, 1e-4);
    x[2 * d + 777] = 9.0f; x[2 * d + 900] = 9.0f; x[3 * d + 0] = 5.0f;  // ties: first index wins
    CK(cudaMemcpy(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
    int* di = nullptr; CK(cudaMalloc(&di, n * sizeof(int)));
    sparkmm_argmax<<<n, SPARKMM_BLOCK>>>(dx, di, n, d);
    auto idx = host(di, n);
    bool ok = true;
    for (int r = 0; r < n; r++) {
        int best = 0; for (int j = 1; j < d; j++) if (x[r * d + j] > x[r * d + best]) best = j;
        ok &= idx[r] == best;
    }
    if (!ok) failures++;
    std::printf("%-34s %s\n", "argmax", ok ? "indices equal ok" : "FAIL");
    CK(cudaFree(dx)); CK(cudaFree(dw)); CK(cudaFree(db)); CK(cudaFree(dout)); CK(cudaFree(di));
}

static void test_elementwise() {
    const int64_t count = 3000;
    auto a = rnd(count, -6, 6), b = rnd(count);
    float *da = dev(a), *db = dev(b), *dout = zeros(count);
    int grid = (int) ((count + 255) / 256);
    std::vector<double> want(count);
    sparkmm_silu_mul<<<grid, 256>>>(da, db, dout, count);
    for (int64_t i = 0; i < count; i++) want[i] = a[i] / (1.0 + std::exp(-(double) a[i])) * b[i];
    report("silu_mul", host(dout, count), want, 1e-4);
    const char* names[] = {"activation silu", "activation gelu_erf", "activation gelu_tanh", "activation quick_gelu"};
    for (int act = 0; act < 4; act++) {
        sparkmm_activation<<<grid, 256>>>(da, dout, count, act);
        for (int64_t i = 0; i < count; i++) {
            double v = a[i];
            want[i] = act == 0 ? v / (1 + std::exp(-v)) : act == 1 ? 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))
                    : act == 2 ? 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)))
                    : v / (1 + std::exp(-1.702 * v));
        }
        report(names[act], host(dout, count), want, 1e-4);
    }
    sparkmm_add<<<grid, 256>>>(da, db, dout, count);
    for (int64_t i = 0; i < count; i++) want[i] = (double) a[i] + b[i];
    report("add", host(dout, count), want, 1e-6);
    std::vector<uint16_t> h(count);
    for (int64_t i = 0; i < count; i++) { h[i] = f16(a[i]); want[i] = from_f16(h[i]); }
    uint16_t* dh = dev(h);
    sparkmm_to_f32<<<grid, 256>>>(dh, 2, dout, count);
    report("to_f32 f16", host(dout, count), want, 0);
    // embedding from a BF16 table [V=50, d=60]
    const int V = 50, d = 60, n = 4;
    std::vector<uint16_t> table((size_t) V * d);
    auto tv = rnd(table.size());
    for (size_t i = 0; i < table.size(); i++) table[i] = bf16(tv[i]);
    std::vector<int> ids = {7, 0, 49, 7};
    uint16_t* dt = dev(table); int* dids = dev(ids); float* demb = zeros((size_t) n * d);
    sparkmm_embedding<<<n, SPARKMM_BLOCK>>>(dt, 1, dids, demb, n, d);
    std::vector<double> we((size_t) n * d);
    for (int r = 0; r < n; r++) for (int j = 0; j < d; j++) we[r * d + j] = from_bf16(table[(size_t) ids[r] * d + j]);
    report("embedding bf16", host(demb, we.size()), we, 0);
    CK(cudaFree(da)); CK(cudaFree(db)); CK(cudaFree(dout)); CK(cudaFree(dh)); CK(cudaFree(dt)); CK(cudaFree(dids));
    CK(cudaFree(demb));
}

static void test_rope() {
    // M-RoPE-like: 3 sections over hd/2 = 8 frequencies
    const int n = 6, heads = 3, hd = 16, half = hd / 2;
    auto x = rnd((size_t) n * heads * hd);
    std::vector<int> pos(3 * n), sec = {0, 0, 0, 1, 1, 2, 2, 2};
    for (int i = 0; i < 3 * n; i++) pos[i] = (int) (rng() % 5000);
    std::vector<float> inv(half);
    for (int f = 0; f < half; f++) inv[f] = (float) std::pow(10000.0, -2.0 * f / hd);
    float* dx = dev(x); int* dp = dev(pos); int* ds = dev(sec); float* di = dev(inv);
    sparkmm_rope<<<n, std::min(256, heads * half)>>>(dx, dp, ds, di, n, heads, hd, 1.25f);
    std::vector<double> want(x.size());
    for (int r = 0; r < n; r++)
        for (int h = 0; h < heads; h++)
            for (int f = 0; f < half; f++) {
                float angle = (float) pos[sec[f] * n + r] * inv[f];
                double c = std::cos((double) angle) * 1.25, s = std::sin((double) angle) * 1.25;
                size_t base = ((size_t) r * heads + h) * hd;
                want[base + f] = x[base + f] * c - x[base + f + half] * s;
                want[base + f + half] = x[base + f + half] * c + x[base + f] * s;
            }
    report("rope (3 sections, scale 1.25)", host(dx, x.size()), want, 1e-4);
    CK(cudaFree(dx)); CK(cudaFree(dp)); CK(cudaFree(ds)); CK(cudaFree(di));
}

static int attn_block(int hd) { return std::min(256, (hd + 31) / 32 * 32); }

static std::vector<double> cpu_attention(const std::vector<float>& q, const std::vector<float>& k,
                                         const std::vector<float>& v, int n, int hq, int hkv, int hd,
                                         float scale, bool causal) {
    std::vector<double> out((size_t) n * hq * hd);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < hq; h++) {
            int g = h / (hq / hkv), last = causal ? i : n - 1;
            std::vector<double> s(last + 1);
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j <= last; j++) {
                double dot = 0;
                for (int c = 0; c < hd; c++) dot += (double) q[((size_t) i * hq + h) * hd + c] * k[((size_t) j * hkv + g) * hd + c];
                s[j] = dot * scale; mx = std::max(mx, s[j]);
            }
            for (int j = 0; j <= last; j++) { s[j] = std::exp(s[j] - mx); sum += s[j]; }
            for (int c = 0; c < hd; c++) {
                double acc = 0;
                for (int j = 0; j <= last; j++) acc += s[j] * v[((size_t) j * hkv + g) * hd + c];
                out[((size_t) i * hq + h) * hd + c] = acc / sum;
            }
        }
    return out;
}

static void test_attention(int n, int hq, int hkv, int hd, int kv_dtype) {
    float scale = 1.0f / std::sqrt((float) hd);
    auto q = rnd((size_t) n * hq * hd), k = rnd((size_t) n * hkv * hd), v = rnd((size_t) n * hkv * hd);
    if (kv_dtype != 0) {  // the pool rounds K/V; the contiguous reference sees the rounded values
        for (auto* a : {&k, &v})
            for (auto& e : *a) e = kv_dtype == 1 ? from_bf16(bf16(e)) : from_f16(f16(e));
    }
    float *dq = dev(q), *dk = dev(k), *dv = dev(v), *dout = zeros(q.size()), *dpo = zeros(q.size());
    char name[96];
    sparkmm_attention<<<dim3(n, hq), attn_block(hd)>>>(dq, dk, dv, dout, n, hq, hkv, hd, scale, 1);
    CK(cudaGetLastError());
    auto contiguous = host(dout, q.size());
    std::snprintf(name, sizeof name, "attention n=%d hq=%d hkv=%d hd=%d", n, hq, hkv, hd);
    report(name, contiguous, cpu_attention(q, k, v, n, hq, hkv, hd, scale, true), 1e-4);
    // Paged: the same sequence as two segments' worth of work: one prefill chunk of the first
    // n - 3 rows, then the last 3 rows as a second chunk, over shuffled blocks of 16 positions.
    const int bs = 16, nblocks = (n + bs - 1) / bs + 3, maxb = nblocks;
    std::vector<int> table(maxb);
    for (int i = 0; i < maxb; i++) table[i] = (i * 7 + 3) % nblocks;  // a permutation: 7 is coprime
    int esz = kv_dtype == 0 ? 4 : 2;
    void *dkc, *dvc; size_t pool = (size_t) nblocks * bs * hkv * hd * esz;
    CK(cudaMalloc(&dkc, pool)); CK(cudaMalloc(&dvc, pool));
    int* dtab = dev(table);
    for (int chunk = 0; chunk < 2; chunk++) {
        int r0 = chunk == 0 ? 0 : n - 3, rows = chunk == 0 ? n - 3 : 3;
        std::vector<int> slots(rows), seg(rows, 0), qs = {0, rows}, ctx = {r0 + rows};
        for (int t = 0; t < rows; t++) slots[t] = table[(r0 + t) / bs] * bs + (r0 + t) % bs;
        int *dsl = dev(slots), *dseg = dev(seg), *dqs = dev(qs), *dctx = dev(ctx);
        sparkmm_kv_write<<<rows, std::min(256, hkv * hd)>>>(dk + (size_t) r0 * hkv * hd, dv + (size_t) r0 * hkv * hd,
                                                          dkc, dvc, kv_dtype, dsl, rows, hkv, hd);
        sparkmm_paged_attention<<<dim3(rows, hq), attn_block(hd)>>>(dq + (size_t) r0 * hq * hd, dpo + (size_t) r0 * hq * hd,
                dkc, dvc, kv_dtype, dseg, dqs, dctx, dtab, maxb, rows, bs, hq, hkv, hd, scale);
        CK(cudaGetLastError());
        CK(cudaFree(dsl)); CK(cudaFree(dseg)); CK(cudaFree(dqs)); CK(cudaFree(dctx));
    }
    auto paged = host(dpo, q.size());
    std::snprintf(name, sizeof name, "paged == contiguous (kv dtype %d)", kv_dtype);
    exact(name, paged.data(), contiguous.data(), q.size() * sizeof(float));
    if (kv_dtype == 1) {  // the pool holds exactly the rounded bits
        std::vector<uint16_t> kc(pool / 2);
        CK(cudaMemcpy(kc.data(), dkc, pool, cudaMemcpyDeviceToHost));
        bool ok = true;
        for (int p = 0; p < n; p++)
            for (int e = 0; e < hkv * hd; e++)
                ok &= kc[((size_t) table[p / bs] * bs + p % bs) * hkv * hd + e] == bf16(k[(size_t) p * hkv * hd + e]);
        if (!ok) failures++;
        std::printf("%-34s %s\n", "kv_write bf16 bits", ok ? "ok" : "FAIL");
    }
    CK(cudaFree(dq)); CK(cudaFree(dk)); CK(cudaFree(dv)); CK(cudaFree(dout)); CK(cudaFree(dpo));
    CK(cudaFree(dkc)); CK(cudaFree(dvc)); CK(cudaFree(dtab));
}

int main() {
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    std::printf("device: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
    test_matmul(0, "matmul f32 37x70x45 + bias");
    test_matmul(1, "matmul bf16 weights");
    test_matmul(2, "matmul f16 weights");
    test_norms();
    test_elementwise();
    test_rope();
    test_attention(150, 4, 2, 64, 0);   // 3 KV tiles, GQA
    test_attention(70, 2, 1, 80, 0);    // head dim not a power of two
    test_attention(67, 2, 2, 256, 1);   // widest head, BF16 pool
    test_attention(40, 4, 1, 128, 2);   // F16 pool
    test_attention(100, 2, 2, 32, 0);   // one warp for a tile of 64 positions
    test_attention(20, 1, 1, 8, 0);     // a head narrower than a warp
    CK(cudaDeviceSynchronize());
    std::printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
