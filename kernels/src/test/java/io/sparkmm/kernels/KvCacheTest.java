package io.sparkmm.kernels;

import io.sparkmm.kernels.cpu.CpuKvCache;
import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** KV pool sizing per dtype, rounding on write, allocation errors, ownership by the backend, and pagedAttention's argument checks. */
class KvCacheTest {

    private static List<Backend> backends() {
        return List.of(new ReferenceBackend(), Backends.open("cpu", 2));
    }

    @Test
    void bytesPerBlockCountsKAndVOfEveryLayer() {
        assertThat(KvCache.bytesPerBlock(3, 16, 2, 64)).isEqualTo(2L * 3 * 16 * 2 * 64 * 4);
        assertThatThrownBy(() -> KvCache.bytesPerBlock(0, 16, 2, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layers 0");
        assertThatThrownBy(() -> KvCache.bytesPerBlock(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than " + Long.MAX_VALUE);
    }

    @Test
    void bytesPerBlockScalesWithTheDtype() {
        // 2 (K and V) * 3 layers * 16 tokens * 2 heads * 64 dims = 12288 values per block
        assertThat(KvCache.bytesPerBlock(3, 16, 2, 64, DType.F32)).isEqualTo(12288L * 4);
        assertThat(KvCache.bytesPerBlock(3, 16, 2, 64, DType.BF16)).isEqualTo(12288L * 2);
        assertThat(KvCache.bytesPerBlock(3, 16, 2, 64, DType.F16)).isEqualTo(12288L * 2);
        assertThat(KvCache.bytesPerBlock(3, 16, 2, 64)).as("no dtype means F32").isEqualTo(12288L * 4);
        assertThatThrownBy(() -> KvCache.bytesPerBlock(3, 16, 2, 64, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dtype");
    }

    @Test
    void cacheReportsItsSizeAndIsClosedWithItsBackend() {
        for (Backend be : backends()) {
            KvCache cache = be.allocateKvCache(3, 10, 16, 2, 8);
            assertThat(List.of(cache.numLayers(), cache.numBlocks(), cache.blockSize(), cache.kvHeads(), cache.headDim()))
                    .containsExactly(3, 10, 16, 2, 8);
            assertThat(cache.dtype()).isEqualTo(DType.F32);
            assertThat(cache.bytes()).isEqualTo(10 * KvCache.bytesPerBlock(3, 16, 2, 8));
            KvCache bf16 = be.allocateKvCache(3, 10, 16, 2, 8, DType.BF16);
            assertThat(bf16.dtype()).isEqualTo(DType.BF16);
            assertThat(bf16.bytes()).as("BF16 pool").isEqualTo(cache.bytes() / 2);
            assertThat(CpuKvCache.of(bf16).get(2, false, 159, 1, 7)).isZero();
            CpuKvCache cpu = CpuKvCache.of(cache);
            assertThat(cpu.get(2, true, 159, 1, 7)).isZero();
            be.close();
            assertThat(cpu.isClosed()).isTrue();
            assertThat(CpuKvCache.of(bf16).isClosed()).isTrue();
            assertThatThrownBy(() -> cpu.get(0, false, 0, 0, 0))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("was closed");
            cache.close(); // twice is allowed
        }
    }

    /**
     * Writes round to nearest, ties to even, as torch's {@code .to(bfloat16)} / {@code .to(float16)}
     * do; reads give the rounded value exactly. The cases sit on and around ties: BF16 keeps 7
     * fraction bits (steps of 2^-7 at 1), F16 keeps 10 (steps of 2^-10 at 1; smallest subnormal 2^-24).
     */
    @Test
    void writesRoundToNearestEvenAndReadsWiden() {
        float[] in = {1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 1 + 0x1p-8f + 0x1p-20f, -2.5f,
                      1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 0x1p-25f, 3 * 0x1p-26f, 65520f};
        float[] bf16 = {1f, 1 + 0x1p-6f, 1 + 0x1p-7f, -2.5f,
                        1f, 1f, 0x1p-25f, 3 * 0x1p-26f, 65536f};
        float[] f16 = {1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 1 + 0x1p-8f, -2.5f,
                       1f, 1 + 0x1p-9f, 0f, 0x1p-24f, Float.POSITIVE_INFINITY};
        float[] zeros = new float[in.length];
        for (DType dtype : DType.values()) {
            float[] expected = switch (dtype) {
                case F32 -> in;
                case BF16 -> bf16;
                case F16 -> f16;
            };
            // one layer, 2 blocks of 1 token, 1 KV head of dim 9
            try (CpuKvCache cache = CpuKvCache.allocate(1, 2, 1, 1, in.length, dtype)) {
                cache.write(0, 1, in, 0, zeros, 0);
                float[] k = new float[2 * in.length];
                float[] v = new float[2 * in.length];
                cache.gather(0, new int[] {0, 1}, 0, 0, 2, k, v);
                for (int c = 0; c < in.length; c++) {
                    assertThat(cache.get(0, false, 1, 0, c)).as("%s of %s", dtype, in[c]).isEqualTo(expected[c]);
                    assertThat(k[in.length + c]).as("gathered %s of %s", dtype, in[c]).isEqualTo(expected[c]);
                    assertThat(k[c]).as("slot 0 untouched").isZero();
                }
                if (dtype == DType.F32) {
                    assertThatThrownBy(() -> cache.gatherBits(0, new int[] {1}, 0, 0, 1, new short[9], new short[9]))
                            .isInstanceOf(IllegalStateException.class).hasMessageContaining("F32");
                } else {
                    short[] kb = new short[in.length];
                    cache.gatherBits(0, new int[] {1}, 0, 0, 1, kb, new short[in.length]);
                    // 1 + 2^-11 rounds to 1.0 in both: 0x3F80 in BF16, 0x3C00 in F16
                    assertThat(kb[4]).isEqualTo(dtype == DType.BF16 ? (short) 0x3F80 : (short) 0x3C00);
                }
            }
        }
    }

    @Test
    void impossibleAllocationsFailClearly() {
        for (Backend be : backends()) {
            try (be) {
                // 128 GiB: far above any test JVM's direct-memory limit, refused before anything is reserved
                assertThatThrownBy(() -> be.allocateKvCache(1, 1 << 20, 16, 8, 128))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("allocateKvCache")
                        .hasMessageContaining("137438953472 bytes (128.00 GiB)")
                        .hasMessageContaining("-XX:MaxDirectMemorySize");
                assertThatThrownBy(() -> be.allocateKvCache(Integer.MAX_VALUE, Integer.MAX_VALUE / 16, 16,
                        Integer.MAX_VALUE, 2))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("allocateKvCache").hasMessageContaining("more than " + Long.MAX_VALUE);
                assertThatThrownBy(() -> be.allocateKvCache(1, 0, 16, 2, 8))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blocks must be positive");
                assertThatThrownBy(() -> be.allocateKvCache(1, 2, 16, 0, 8))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("KV heads 0");
                assertThatThrownBy(() -> be.allocateKvCache(1, Integer.MAX_VALUE / 8, 16, 1, 1))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("largest slot id");
                assertThatThrownBy(() -> be.allocateKvCache(1, 1, 1 << 20, 8, 128))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("smaller block size");
                assertThatThrownBy(() -> be.allocateKvCache(1, 2, 16, 2, 8, null))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dtype");
                // the same 2^20 blocks in BF16: half the bytes, still refused, and the message says BF16
                assertThatThrownBy(() -> be.allocateKvCache(1, 1 << 20, 16, 8, 128, DType.BF16))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("BF16").hasMessageContaining("68719476736 bytes (64.00 GiB)");
            }
        }
    }

    @Test
    void pagedAttentionChecksItsArguments() {
        for (Backend be : backends()) {
            try (be; KvCache cache = be.allocateKvCache(2, 4, 4, 2, 8);
                 Tensor q = be.zeros(2, 32); Tensor kv = be.zeros(2, 16); Tensor out = be.zeros(2, 32);
                 Tensor small = be.zeros(1, 32); Tensor kv1 = be.zeros(1, 16)) {
                PagedBatch ok = new PagedBatch(4, new int[] {0, 2}, new int[] {6}, new int[][] {{3, 1}}, new int[] {4, 5});
                be.pagedAttention(q, kv, kv, cache, 1, ok, out, 4, 2, 8, 0.5f);
                assertThatThrownBy(() -> be.pagedAttention(q, kv, kv, cache, 2, ok, out, 4, 2, 8, 0.5f))
                        .hasMessageContaining("pagedAttention: layer 2 outside the cache's 2 layers");
                assertThatThrownBy(() -> be.pagedAttention(q, kv, kv, cache, 0, ok, out, 3, 2, 8, 0.5f))
                        .hasMessageContaining("pagedAttention: 3 query heads are not a multiple of 2 KV heads");
                assertThatThrownBy(() -> be.pagedAttention(q, kv, kv, cache, 0, ok, out, 4, 4, 4, 0.5f))
                        .hasMessageContaining("pagedAttention: 4 KV heads of dim 4");
                assertThatThrownBy(() -> be.pagedAttention(small, kv, kv, cache, 0, ok, out, 4, 2, 8, 0.5f))
                        .hasMessageContaining("pagedAttention q rows (batch tokens): expected 2, got 1");
                PagedBatch badBlock = new PagedBatch(4, new int[] {0, 1}, new int[] {1}, new int[][] {{4}}, new int[] {16});
                assertThatThrownBy(() -> be.pagedAttention(small, kv1, kv1, cache, 0, badBlock, small, 4, 2, 8, 0.5f))
                        .hasMessageContaining("pagedAttention: block 4 outside the cache's 4 blocks");
                PagedBatch otherSize = new PagedBatch(2, new int[] {0, 2}, new int[] {2}, new int[][] {{0}}, new int[] {0, 1});
                assertThatThrownBy(() -> be.pagedAttention(q, kv, kv, cache, 0, otherSize, out, 4, 2, 8, 0.5f))
                        .hasMessageContaining("in blocks of 2 do not match the cache's 2 x 8 in blocks of 4");
            }
        }
    }
}
