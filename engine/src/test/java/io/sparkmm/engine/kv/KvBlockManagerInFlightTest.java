package io.sparkmm.engine.kv;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Blocks a running request is computing, as the block manager lists and forgets them. */
class KvBlockManagerInFlightTest {

    /** Admits {@code t} with whatever is cached and lists its remaining full blocks as in flight. */
    private static void admit(KvBlockManager kv, String id, Tokens t) {
        PrefixHit hit = kv.findCachedPrefix(t);
        assertThat(kv.allocate(id, t.numTokens(), hit)).isTrue();
        kv.planInFlight(id, t);
    }

    @Test
    void plannedBlocksAreInFlightUntilComputedAndThenHitUnderTheSameKeys() {
        KvBlockManager kv = new KvBlockManager(16, 4, true, BlockHasher.sha256());
        Tokens a = Tokens.range(0, 14); // 3 full blocks
        admit(kv, "a", a);
        assertThat(kv.numInFlightBlocks()).isEqualTo(3);
        Tokens b = Tokens.range(0, 20);
        assertThat(kv.inFlightProducer(b, kv.findCachedPrefix(b))).isEqualTo("a");
        kv.cacheFullBlocks("a", a, 9); // blocks 0 and 1 computed
        assertThat(kv.numInFlightBlocks()).isEqualTo(1);
        PrefixHit hit = kv.findCachedPrefix(b);
        assertThat(hit.numBlocks()).isEqualTo(2);
        assertThat(kv.inFlightProducer(b, hit)).as("block 2 is still being computed").isEqualTo("a");
        kv.cacheFullBlocks("a", a, 14);
        hit = kv.findCachedPrefix(b);
        assertThat(hit.numBlocks()).isEqualTo(3);
        assertThat(kv.inFlightProducer(b, hit)).isNull();
        assertThat(kv.numInFlightBlocks()).isZero();
    }

    @Test
    void freeingTheProducerForgetsItsUncomputedBlocks() {
        KvBlockManager kv = new KvBlockManager(16, 4, true, BlockHasher.sha256());
        Tokens a = Tokens.range(0, 12);
        admit(kv, "a", a);
        kv.cacheFullBlocks("a", a, 4);
        kv.free("a");
        assertThat(kv.numInFlightBlocks()).isZero();
        Tokens b = Tokens.range(0, 13);
        assertThat(kv.inFlightProducer(b, kv.findCachedPrefix(b))).isNull();
    }

    @Test
    void aSecondProducerOfTheSameBlocksDoesNotTakeThemOver() {
        KvBlockManager kv = new KvBlockManager(16, 4, true, BlockHasher.sha256());
        admit(kv, "a", Tokens.range(0, 9));
        admit(kv, "b", Tokens.range(0, 9));
        assertThat(kv.numInFlightBlocks()).isEqualTo(2);
        kv.free("b"); // b's copies were never listed, so a's entries stay
        Tokens c = Tokens.range(0, 9);
        assertThat(kv.inFlightProducer(c, kv.findCachedPrefix(c))).isEqualTo("a");
    }

    @Test
    void aHashCollisionWithAnInFlightBlockIsNotMistakenForIt() {
        // every block hashes the same: only the verified key tells blocks apart
        BlockHasher constant = (parent, tokens, extras, salt) -> new BlockHash(1, 2);
        KvBlockManager kv = new KvBlockManager(16, 4, true, constant);
        admit(kv, "a", Tokens.range(0, 9));
        Tokens other = Tokens.range(100, 9);
        assertThat(kv.inFlightProducer(other, kv.findCachedPrefix(other))).isNull();
        Tokens same = Tokens.range(0, 9);
        assertThat(kv.inFlightProducer(same, kv.findCachedPrefix(same))).isEqualTo("a");
    }

    @Test
    void withoutPrefixCachingNothingIsInFlight() {
        KvBlockManager kv = new KvBlockManager(16, 4, false, BlockHasher.sha256());
        admit(kv, "a", Tokens.range(0, 12));
        assertThat(kv.numInFlightBlocks()).isZero();
        Tokens b = Tokens.range(0, 13);
        assertThat(kv.inFlightProducer(b, kv.findCachedPrefix(b))).isNull();
    }
}
