package io.sparkmm.processors.cache;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProcessorCacheTest {

    private static ProcessedItem item(String hash, int floats) {
        return ProcessedItem.of(hash, "image", "pixel_values", new ItemTensor(new float[floats], new int[] {floats}));
    }

    @Test
    void hitsReturnTheCachedItemWithoutComputing() {
        ProcessorCache cache = new ProcessorCache(1 << 20);
        AtomicInteger computed = new AtomicInteger();
        ProcessedItem a = cache.get("a", () -> { computed.incrementAndGet(); return item("a", 10); });
        ProcessedItem again = cache.get("a", () -> { computed.incrementAndGet(); return item("a", 10); });
        assertThat(again).isSameAs(a);
        assertThat(computed).hasValue(1);
        assertThat(cache.hits()).isEqualTo(1);
        assertThat(cache.misses()).isEqualTo(1);
    }

    @Test
    void evictsLeastRecentlyUsedPastTheByteBound() {
        long one = item("x", 100).bytes();
        ProcessorCache cache = new ProcessorCache(2 * one);
        cache.get("a", () -> item("a", 100));
        cache.get("b", () -> item("b", 100));
        cache.get("a", () -> item("a", 100));      // a is now the most recent
        cache.get("c", () -> item("c", 100));      // evicts b
        AtomicInteger recomputed = new AtomicInteger();
        cache.get("a", () -> { recomputed.incrementAndGet(); return item("a", 100); });
        cache.get("b", () -> { recomputed.incrementAndGet(); return item("b", 100); });
        assertThat(recomputed).hasValue(1);
        assertThat(cache.evictions()).isGreaterThanOrEqualTo(1);
        assertThat(cache.bytes()).isLessThanOrEqualTo(2 * one);
    }

    @Test
    void concurrentMissesComputeOnceAndFailuresAreNotCached() throws Exception {
        ProcessorCache cache = new ProcessorCache(1 << 20);
        AtomicInteger computed = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<ProcessedItem>> fs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            fs.add(pool.submit(() -> {
                go.await();
                return cache.get("same", () -> {
                    computed.incrementAndGet();
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return item("same", 5);
                });
            }));
        }
        go.countDown();
        for (Future<ProcessedItem> f : fs) {
            assertThat(f.get().hash()).isEqualTo("same");
        }
        pool.shutdown();
        assertThat(computed).hasValue(1);

        assertThatThrownBy(() -> cache.get("bad", () -> { throw new IllegalArgumentException("corrupt"); }))
                .hasMessage("corrupt");
        assertThat(cache.get("bad", () -> item("bad", 1)).hash()).isEqualTo("bad");
    }

    @Test
    void contentHashSeparatesEveryPart() {
        byte[] img = {1, 2, 3};
        String base = ContentHash.of("m", "image", "opts", img);
        assertThat(ContentHash.of("m", "image", "opts", new byte[] {1, 2, 3})).isEqualTo(base);
        assertThat(ContentHash.of("m2", "image", "opts", img)).isNotEqualTo(base);
        assertThat(ContentHash.of("m", "audio", "opts", img)).isNotEqualTo(base);
        assertThat(ContentHash.of("m", "image", "opts2", img)).isNotEqualTo(base);
        assertThat(ContentHash.of("m", "image", "opts", new byte[] {1, 2, 4})).isNotEqualTo(base);
        // length prefixes: moving a byte from one part to the next changes the hash
        assertThat(ContentHash.of("ab", "c", "", img)).isNotEqualTo(ContentHash.of("a", "bc", "", img));
        assertThat(base).hasSize(64);
    }
}
