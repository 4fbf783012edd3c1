package io.sparkmm.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class BlockPoolTest {
    private static BlockKey key(int token) {
        return BlockKey.of(BlockHasher.sha256(), null, new int[] {token}, List.of(), null);
    }

    @Test
    void allocationIsLeastRecentlyFreedFirst() {
        BlockPool pool = new BlockPool(4);
        assertThat(pool.allocate(2)).containsExactly(0, 1);
        assertThat(pool.freeQueue()).containsExactly(2, 3);
        pool.release(1);
        pool.release(0);
        assertThat(pool.freeQueue()).containsExactly(2, 3, 1, 0);
        assertThat(pool.allocate(3)).containsExactly(2, 3, 1);
        assertThat(pool.numFree()).isEqualTo(1);
        assertThatThrownBy(() -> pool.allocate(2)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void freedBlocksKeepTheirKeyUntilReused() {
        BlockPool pool = new BlockPool(2);
        int[] b = pool.allocate(2);
        BlockKey k = key(5);
        assertThat(pool.register(b[0], k)).isTrue();
        pool.release(b[0]);
        assertThat(pool.lookup(k.hash())).isEqualTo(b[0]);
        // A hit revives it: out of the free queue, key kept.
        pool.touch(b[0]);
        assertThat(pool.numFree()).isZero();
        assertThat(pool.refCount(b[0])).isEqualTo(1);
        pool.release(b[0]);
        pool.release(b[1]);
        // Reuse evicts.
        assertThat(pool.allocate(1)).containsExactly(b[0]);
        assertThat(pool.lookup(k.hash())).isEqualTo(-1);
        assertThat(pool.cachedKey(b[0])).isNull();
        assertThat(pool.numCachedBlocks()).isZero();
    }

    @Test
    void sharedBlockIsFreeOnlyWhenTheLastOwnerLetsGo() {
        BlockPool pool = new BlockPool(3);
        int b = pool.allocate(1)[0];
        pool.register(b, key(1));
        pool.touch(b);
        pool.release(b);
        assertThat(pool.numFree()).isEqualTo(2);
        pool.release(b);
        assertThat(pool.numFree()).isEqualTo(3);
        assertThatThrownBy(() -> pool.release(b)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void registrationOfADuplicateOrACollisionLeavesTheBlockPrivate() {
        BlockPool pool = new BlockPool(3);
        int[] b = pool.allocate(3);
        BlockHasher constant = (p, t, e, s) -> new BlockHash(1, 1);
        BlockKey k1 = BlockKey.of(constant, null, new int[] {1}, List.of(), null);
        BlockKey k1again = BlockKey.of(constant, null, new int[] {1}, List.of(), null);
        BlockKey k2 = BlockKey.of(constant, null, new int[] {2}, List.of(), null);
        assertThat(pool.register(b[0], k1)).isTrue();
        assertThat(pool.register(b[1], k1again)).isFalse();
        assertThat(pool.collisions()).isZero();
        assertThat(pool.register(b[2], k2)).isFalse();
        assertThat(pool.collisions()).isEqualTo(1);
        assertThat(pool.cachedKey(b[2])).isNull();
    }
}
