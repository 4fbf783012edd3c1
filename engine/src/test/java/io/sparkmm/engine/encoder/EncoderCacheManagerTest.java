package io.sparkmm.engine.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EncoderCacheManagerTest {

    @Test
    void oneImageAskedThreeTimesIsAllocatedOnceAndStaysCachedUnreferenced() {
        EncoderCacheManager c = new EncoderCacheManager(10);
        assertThat(c.has("cat")).isFalse();
        c.allocate("q1", "cat", 6);
        c.addReference("q2", "cat");
        assertThat(c.refCount("cat")).isEqualTo(2);
        c.release("q1", "cat");
        c.releaseAll("q2");
        assertThat(c.refCount("cat")).isZero();
        // Unreferenced but still cached: the third question is a hit too.
        assertThat(c.has("cat")).isTrue();
        c.addReference("q3", "cat");
        assertThat(c.hits()).isEqualTo(2);
        assertThat(c.misses()).isEqualTo(1);
        assertThat(c.usedRows()).isEqualTo(6);
        assertThat(c.drainFreed()).isEmpty();
    }

    @Test
    void unreferencedEntriesAreEvictedLazilyLeastRecentlyUsedFirst() {
        EncoderCacheManager c = new EncoderCacheManager(9);
        c.allocate("r", "a", 3);
        c.allocate("r", "b", 3);
        c.allocate("r", "c", 3);
        // Released in the order b, a, c: b is the least recently used.
        c.release("r", "b");
        c.release("r", "a");
        c.release("r", "c");
        assertThat(c.usedRows()).isEqualTo(9);
        assertThat(c.canAllocate(9)).isTrue();
        assertThat(c.canAllocate(10)).isFalse();
        // Using a again makes it the most recently used once released.
        c.addReference("s", "a");
        c.release("s", "a");
        assertThat(c.evictableRowsOf("a")).isEqualTo(3);
        c.allocate("t", "d", 5);
        assertThat(c.drainFreed()).containsExactly("b", "c");
        assertThat(c.drainFreed()).isEmpty();
        assertThat(c.has("a")).isTrue();
        assertThat(c.has("b")).isFalse();
        assertThat(c.evictions()).isEqualTo(2);
        assertThat(c.usedRows()).isEqualTo(8);
        assertThat(c.numEntries()).isEqualTo(2);
    }

    @Test
    void referencedEntriesAreNeverEvicted() {
        EncoderCacheManager c = new EncoderCacheManager(8);
        c.allocate("r", "a", 5);
        assertThat(c.canAllocate(4)).isFalse();
        assertThat(c.evictableRowsOf("a")).isZero();
        assertThatThrownBy(() -> c.allocate("s", "b", 4)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("no room for 4");
        assertThat(c.has("b")).isFalse();
        c.release("r", "a");
        c.allocate("s", "b", 4);
        assertThat(c.drainFreed()).containsExactly("a");
    }

    @Test
    void aRequestHoldingOneHashTwiceKeepsItUntilBothAreReleased() {
        EncoderCacheManager c = new EncoderCacheManager(4);
        c.allocate("r", "a", 4);
        c.addReference("r", "a");
        c.release("r", "a");
        assertThat(c.refCount("a")).isEqualTo(1);
        assertThat(c.canAllocate(1)).isFalse();
        c.release("r", "a");
        assertThat(c.canAllocate(4)).isTrue();
        c.addReference("r", "a");
        c.addReference("r", "a");
        c.releaseAll("r");
        assertThat(c.refCount("a")).isZero();
        assertThat(c.evictableRowsOf("a")).isEqualTo(4);
    }

    @Test
    void misuseIsRefused() {
        EncoderCacheManager c = new EncoderCacheManager(4);
        assertThatThrownBy(() -> new EncoderCacheManager(0)).isInstanceOf(IllegalArgumentException.class);
        c.allocate("r", "a", 2);
        assertThatThrownBy(() -> c.allocate("s", "a", 2)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("already cached");
        assertThatThrownBy(() -> c.addReference("s", "zz")).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("not cached");
        assertThatThrownBy(() -> c.release("s", "a")).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("holds no reference");
        assertThatThrownBy(() -> c.allocate("s", "b", 0)).isInstanceOf(IllegalArgumentException.class);
        c.releaseAll("nobody");
        assertThat(c.refCount("a")).isEqualTo(1);
    }

    @Test
    void aDiscardedEntryIsForgottenAndItsRowsReturn() {
        EncoderCacheManager c = new EncoderCacheManager(10);
        c.allocate("q1", "bad", 6);
        assertThatThrownBy(() -> c.discard("bad")).hasMessageContaining("still referenced");
        c.releaseAll("q1");
        assertThat(c.discard("bad")).isTrue();
        assertThat(c.has("bad")).isFalse();
        assertThat(c.usedRows()).isZero();
        assertThat(c.canAllocate(10)).isTrue();
        assertThat(c.discard("bad")).isFalse();
        // the next request with the item allocates (encodes) it again
        c.allocate("q2", "bad", 6);
        assertThat(c.misses()).isEqualTo(2);
    }
}
