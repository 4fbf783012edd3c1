package io.sparkmm.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkmm.engine.kv.BlockHash;
import io.sparkmm.engine.kv.BlockHasher;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulerPrefixCacheTest {
    private static final int BS = 16;

    private static Harness harness() {
        return new Harness(Harness.config(512, 8, 64, BS, true, 1024, 0));
    }

    private static Harness harness(BlockHasher hasher) {
        return new Harness(Harness.config(512, 8, 64, BS, true, 1024, 0), hasher);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static ScheduledChunk firstChunk(Harness h, String id) {
        return h.history.stream().flatMap(o -> o.chunks().stream()).filter(c -> c.requestId().equals(id))
                .findFirst().orElseThrow();
    }

    @Test
    void partiallySharedBlockIsNotHit() {
        Harness h = harness();
        int[] shared = Harness.tokens(40, 100);
        h.submit("a", concat(shared, Harness.tokens(20, 101)), 3);
        h.runToCompletion(20);
        Sequence b = h.submit("b", concat(shared, Harness.tokens(30, 102)), 3);
        h.runToCompletion(20);
        // 40 shared tokens = 2 full blocks + 8 tokens of a block that differs afterwards.
        assertThat(b.numCachedTokens()).isEqualTo(32);
        assertThat(firstChunk(h, "b").startPosition()).isEqualTo(32);
        assertThat(firstChunk(h, "b").numTokens()).isEqualTo(70 - 32);
        assertThat(h.scheduler.stats().prefixHitTokens()).isEqualTo(32);
        assertThat(h.scheduler.stats().prefixQueryTokens()).isEqualTo(60 + 70);
        h.assertOutputsMatchReference();
    }

    @Test
    void identicalPromptOfExactlyTwoBlocksHitsOnlyOneSoTheLastTokenIsRecomputed() {
        Harness h = harness();
        int[] prompt = Harness.tokens(32, 103);
        h.submit("a", prompt, 2);
        h.runToCompletion(20);
        Sequence b = h.submit("b", prompt.clone(), 2);
        h.runToCompletion(20);
        assertThat(b.numCachedTokens()).isEqualTo(16);
        assertThat(firstChunk(h, "b").startPosition()).isEqualTo(16);
        assertThat(firstChunk(h, "b").samples()).isTrue();
        h.assertOutputsMatchReference();
    }

    @Test
    void concurrentRequestsShareCachedPrefixBlocks() {
        Harness h = harness();
        int[] shared = Harness.tokens(48, 104);
        h.submit("a", concat(shared, Harness.tokens(5, 105)), 30);
        h.step();
        h.step();
        // a is still running; b reuses a's three full blocks at the same time.
        Sequence b = h.submit("b", concat(shared, Harness.tokens(9, 106)), 30);
        h.step();
        assertThat(b.numCachedTokens()).isEqualTo(48);
        int[] ta = h.kv().blockTable("a");
        int[] tb = h.kv().blockTable("b");
        assertThat(Arrays.copyOf(tb, 3)).containsExactly(Arrays.copyOf(ta, 3));
        assertThat(h.kv().pool().refCount(ta[0])).isEqualTo(2);
        h.runToCompletion(100);
        h.assertOutputsMatchReference();
    }

    @Test
    void differentCacheSaltMeansNoHit() {
        Harness h = harness();
        int[] prompt = Harness.tokens(50, 107);
        h.submit(new Sequence("a", prompt, "tenant-1", List.of(), 0), 2);
        h.runToCompletion(20);
        Sequence other = h.submit(new Sequence("b", prompt.clone(), "tenant-2", List.of(), 1), 2);
        Sequence unsalted = h.submit(new Sequence("c", prompt.clone(), null, List.of(), 2), 2);
        h.runToCompletion(20);
        Sequence same = h.submit(new Sequence("d", prompt.clone(), "tenant-1", List.of(), 3), 2);
        h.runToCompletion(20);
        assertThat(other.numCachedTokens()).isZero();
        assertThat(unsalted.numCachedTokens()).isZero();
        assertThat(same.numCachedTokens()).isEqualTo(48);
        h.assertOutputsMatchReference();
    }

    @Test
    void extraKeyDifferingInsideABlockStopsTheHitAtThatBlock() {
        Harness h = harness();
        int[] prompt = Harness.tokens(64, 108); // same placeholder tokens for every image
        h.submit(new Sequence("a", prompt, null, List.of(new ExtraKeyRange(20, 30, "img-A")), 0), 2);
        h.runToCompletion(20);
        Sequence sameImage = h.submit(new Sequence("b", prompt.clone(), null,
                List.of(new ExtraKeyRange(20, 30, "img-A")), 1), 2);
        h.runToCompletion(20);
        Sequence otherImage = h.submit(new Sequence("c", prompt.clone(), null,
                List.of(new ExtraKeyRange(20, 30, "img-B")), 2), 2);
        h.runToCompletion(20);
        Sequence shifted = h.submit(new Sequence("d", prompt.clone(), null,
                List.of(new ExtraKeyRange(21, 31, "img-A")), 3), 2);
        h.runToCompletion(20);
        // Block 0 [0,16) has no media; block 1 [16,32) holds the image.
        assertThat(sameImage.numCachedTokens()).isEqualTo(48);
        assertThat(otherImage.numCachedTokens()).isEqualTo(16);
        assertThat(shifted.numCachedTokens()).isEqualTo(16);
        // The fake model mixes the media key into the KV, so a wrong hit would change outputs.
        h.assertOutputsMatchReference();
    }

    @Test
    void extraKeySpanningBlocksEntersEveryBlockItOverlaps() {
        Harness h = harness();
        int[] prompt = Harness.tokens(80, 109);
        h.submit(new Sequence("a", prompt, null, List.of(new ExtraKeyRange(10, 50, "video-1")), 0), 2);
        h.runToCompletion(20);
        Sequence b = h.submit(new Sequence("b", prompt.clone(), null,
                List.of(new ExtraKeyRange(10, 50, "video-2")), 1), 2);
        h.runToCompletion(20);
        // The item starts in block 0, so even the first block differs.
        assertThat(b.numCachedTokens()).isZero();
        h.assertOutputsMatchReference();
    }

    @Test
    void forcedHashCollisionIsCaughtByVerification() {
        Harness h = harness((parent, tokens, extras, salt) -> new BlockHash(42, 42));
        h.submit("a", Harness.tokens(48, 110), 2);
        h.runToCompletion(20);
        Sequence b = h.submit("b", Harness.tokens(48, 111), 2);
        h.runToCompletion(20);
        assertThat(b.numCachedTokens()).isZero();
        assertThat(h.kv().verificationFailures()).isPositive();
        h.assertOutputsMatchReference();
    }

    @Test
    void collisionOfAParentIsCaughtToo() {
        // A hasher that ignores the parent hash: the same middle block after different first
        // blocks collides. Verification compares the whole chain, so c (which shares b's first
        // block) must not get a's second block, which was computed after a different first block.
        Harness h = harness((parent, tokens, extras, salt) -> new BlockHash(0, Arrays.hashCode(tokens)));
        int[] middle = Harness.tokens(16, 112);
        int[] first1 = Harness.tokens(16, 113);
        int[] first2 = Harness.tokens(16, 114);
        h.submit("a", concat(concat(first1, middle), Harness.tokens(8, 115)), 2);
        h.runToCompletion(20);
        h.submit("b", concat(concat(first2, middle), Harness.tokens(8, 116)), 2);
        h.runToCompletion(20);
        Sequence c = h.submit("c", concat(concat(first2, middle), Harness.tokens(8, 117)), 2);
        h.runToCompletion(20);
        assertThat(c.numCachedTokens()).isEqualTo(16);
        h.assertOutputsMatchReference();
    }

    @Test
    void generatedTokensFillCacheableBlocks() {
        Harness h = harness();
        Sequence a = h.submit("a", Harness.tokens(10, 118), 30);
        h.runToCompletion(50);
        // A follow-up turn: a's prompt plus its generated text plus more.
        int[] followUp = concat(a.allTokenIds(), Harness.tokens(5, 119));
        Sequence b = h.submit("b", followUp, 2);
        h.runToCompletion(20);
        // a computed 39 of its 40 tokens: 2 full blocks, the second mostly generated tokens.
        assertThat(b.numCachedTokens()).isEqualTo(32);
        h.assertOutputsMatchReference();
    }

    @Test
    void withoutPrefixCachingNothingIsHitOrCounted() {
        Harness h = new Harness(Harness.config(512, 8, 64, BS, false, 1024, 0));
        int[] prompt = Harness.tokens(64, 120);
        h.submit("a", prompt, 2);
        h.runToCompletion(20);
        Sequence b = h.submit("b", prompt.clone(), 2);
        h.runToCompletion(20);
        assertThat(b.numCachedTokens()).isZero();
        assertThat(h.scheduler.stats().prefixQueryTokens()).isZero();
        assertThat(h.kv().pool().numCachedBlocks()).isZero();
        h.assertOutputsMatchReference();
    }
}
