package io.sparkmm.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class KvBlockManagerTest {

    private static KvBlockManager manager(int numBlocks) {
        return new KvBlockManager(numBlocks, 4, true, BlockHasher.sha256());
    }

    /** Admits and "computes" the whole sequence in one go. */
    private static void compute(KvBlockManager kv, String id, Tokens t) {
        PrefixHit hit = kv.findCachedPrefix(t);
        assertThat(kv.allocate(id, t.numTokens(), hit)).isTrue();
        kv.cacheFullBlocks(id, t, t.numTokens());
    }

    @Test
    void blocksNeededRoundsUp() {
        KvBlockManager kv = manager(4);
        assertThat(kv.blocksNeeded(0)).isZero();
        assertThat(kv.blocksNeeded(1)).isEqualTo(1);
        assertThat(kv.blocksNeeded(4)).isEqualTo(1);
        assertThat(kv.blocksNeeded(5)).isEqualTo(2);
    }

    @Test
    void freeIsTailFirstAndLruAcrossRequests() {
        KvBlockManager kv = manager(6);
        compute(kv, "r1", Tokens.range(0, 10)); // blocks 0,1,2
        compute(kv, "r2", Tokens.range(100, 10)); // blocks 3,4,5
        kv.free("r1");
        kv.free("r2");
        // r1 freed first (older), and within each request the tail enters the queue first.
        assertThat(kv.pool().freeQueue()).containsExactly(2, 1, 0, 5, 4, 3);
    }

    @Test
    void tailsAreEvictedFirstAndHitsReviveFreedBlocks() {
        KvBlockManager kv = manager(4);
        Tokens prompt = Tokens.range(0, 15); // 3 full blocks + a partial one
        compute(kv, "r1", prompt);
        assertThat(kv.blockTable("r1")).containsExactly(0, 1, 2, 3);
        kv.free("r1");
        assertThat(kv.pool().freeQueue()).containsExactly(3, 2, 1, 0);
        // Another request takes two blocks: the partial tail, then the third full block.
        assertThat(kv.allocate("other", 8, PrefixHit.none(4))).isTrue();
        assertThat(kv.blockTable("other")).containsExactly(3, 2);
        kv.free("other");
        // The first two blocks survived and are revived by a hit.
        PrefixHit hit = kv.findCachedPrefix(prompt);
        assertThat(hit.blocks()).containsExactly(0, 1);
        assertThat(hit.numTokens()).isEqualTo(8);
        assertThat(kv.allocate("r2", 12, hit)).isTrue();
        assertThat(kv.pool().refCount(0)).isEqualTo(1);
        // Hit blocks left the middle of the free queue; the new block came from its head.
        assertThat(kv.blockTable("r2")).containsExactly(0, 1, 2);
        assertThat(kv.pool().freeQueue()).containsExactly(3);
    }

    @Test
    void allocationThatDoesNotFitChangesNothing() {
        KvBlockManager kv = manager(4);
        Tokens prompt = Tokens.range(0, 9);
        compute(kv, "r1", prompt); // 3 blocks: 2 full (cached) + partial
        kv.free("r1");
        assertThat(kv.allocate("hog", 4, PrefixHit.none(4))).isTrue(); // takes block 3
        // r2 hits 2 free blocks and needs 2 more: only 1 (block 2) stays free after the hit.
        PrefixHit hit = kv.findCachedPrefix(Tokens.range(0, 16));
        assertThat(hit.numBlocks()).isEqualTo(2);
        assertThat(kv.allocate("r2", 16, hit)).isFalse();
        assertThat(kv.blockTable("r2")).isEmpty();
        assertThat(kv.numFreeBlocks()).isEqualTo(3);
        assertThat(kv.pool().refCount(0)).isZero();
        assertThat(kv.allocate("r2", 12, hit)).isTrue();
    }

    @Test
    void lastTokenIsNeverServedFromCache() {
        KvBlockManager kv = manager(8);
        compute(kv, "r1", Tokens.range(0, 8));
        assertThat(kv.findCachedPrefix(Tokens.range(0, 8)).numTokens()).isEqualTo(4);
        assertThat(kv.findCachedPrefix(Tokens.range(0, 9)).numTokens()).isEqualTo(8);
        assertThat(kv.findCachedPrefix(Tokens.range(0, 1)).numTokens()).isZero();
    }

    @Test
    void onlyBlocksWhoseLastTokenIsComputedAreCached() {
        KvBlockManager kv = manager(8);
        Tokens t = Tokens.range(0, 12);
        assertThat(kv.allocate("r1", 12, PrefixHit.none(4))).isTrue();
        kv.cacheFullBlocks("r1", t, 7);
        assertThat(kv.pool().numCachedBlocks()).isEqualTo(1);
        kv.cacheFullBlocks("r1", t, 8);
        assertThat(kv.pool().numCachedBlocks()).isEqualTo(2);
    }

    @Test
    void saltAndExtraKeysSeparateEntries() {
        KvBlockManager kv = manager(16);
        int[] ids = Tokens.range(0, 9).ids();
        compute(kv, "plain", Tokens.of(ids));
        Tokens salted = new Tokens(ids, "s", List.of(), List.of());
        assertThat(kv.findCachedPrefix(salted).numBlocks()).isZero();
        Tokens media = new Tokens(ids, null, List.of(new int[] {5, 7}), List.of("img"));
        // Block 0 [0,4) has no media; block 1 [4,8) does.
        assertThat(kv.findCachedPrefix(media).numBlocks()).isEqualTo(1);
    }

    @Test
    void disabledCachingNeverHitsOrRegisters() {
        KvBlockManager kv = new KvBlockManager(8, 4, false, BlockHasher.sha256());
        compute(kv, "r1", Tokens.range(0, 9));
        assertThat(kv.pool().numCachedBlocks()).isZero();
        assertThat(kv.findCachedPrefix(Tokens.range(0, 9)).numBlocks()).isZero();
    }

    @Test
    void sha256HasherSeesEveryInput() {
        BlockHasher h = BlockHasher.sha256();
        int[] t = {1, 2, 3, 4};
        BlockHash base = h.hash(null, t, List.of(), null);
        assertThat(h.hash(null, t.clone(), List.of(), null)).isEqualTo(base);
        assertThat(h.hash(null, new int[] {1, 2, 3, 5}, List.of(), null)).isNotEqualTo(base);
        assertThat(h.hash(base, t, List.of(), null)).isNotEqualTo(base);
        assertThat(h.hash(null, t, List.of(), "")).isNotEqualTo(base);
        assertThat(h.hash(null, t, List.of(new BlockExtraKey("a", 0)), null)).isNotEqualTo(base)
                .isNotEqualTo(h.hash(null, t, List.of(new BlockExtraKey("a", 1)), null))
                .isNotEqualTo(h.hash(null, t, List.of(), "a"));
        // Length prefixes: moving a character between adjacent strings changes the hash.
        assertThat(h.hash(null, t, List.of(new BlockExtraKey("ab", 0), new BlockExtraKey("c", 0)), null))
                .isNotEqualTo(h.hash(null, t, List.of(new BlockExtraKey("a", 0), new BlockExtraKey("bc", 0)), null));
    }
}
