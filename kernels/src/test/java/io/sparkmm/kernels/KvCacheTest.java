package io.sparkmm.kernels;

import io.sparkmm.kernels.cpu.CpuKvCache;
import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** KV pool sizing, allocation errors, ownership by the backend, and pagedAttention's argument checks. */
class KvCacheTest {

    private static List<Backend> backends() {
        return List.of(new ReferenceBackend(), Backends.create("simd", 2));
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
    void cacheReportsItsSizeAndIsClosedWithItsBackend() {
        for (Backend be : backends()) {
            KvCache cache = be.allocateKvCache(3, 10, 16, 2, 8);
            assertThat(List.of(cache.numLayers(), cache.numBlocks(), cache.blockSize(), cache.kvHeads(), cache.headDim()))
                    .containsExactly(3, 10, 16, 2, 8);
            assertThat(cache.bytes()).isEqualTo(10 * KvCache.bytesPerBlock(3, 16, 2, 8));
            CpuKvCache cpu = CpuKvCache.of(cache);
            assertThat(cpu.get(2, true, 159, 1, 7)).isZero();
            be.close();
            assertThat(cpu.isClosed()).isTrue();
            assertThatThrownBy(() -> cpu.get(0, false, 0, 0, 0))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("was closed");
            cache.close(); // twice is allowed
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
