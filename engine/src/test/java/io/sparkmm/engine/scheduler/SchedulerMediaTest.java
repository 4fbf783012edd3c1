package io.sparkmm.engine.scheduler;

import static io.sparkmm.engine.scheduler.Media.chunkIn;
import static io.sparkmm.engine.scheduler.Media.chunksOf;
import static io.sparkmm.engine.scheduler.Media.item;
import static io.sparkmm.engine.scheduler.Media.prompt;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Encoder scheduling: budget, chunk cuts, multi-chunk items, encoder cache reuse. */
class SchedulerMediaTest {

    /** No prefix caching, so that reuse can only come from the encoder cache. */
    private static Harness noPrefixCache(int tokenBudget, int threshold, int encoderBudget, int cacheRows) {
        return new Harness(Media.config(tokenBudget, 8, 64, 4, false, 512, threshold, encoderBudget, cacheRows));
    }

    @Test
    void oneImageAskedThreeQuestionsInTurnIsEncodedOnce() {
        Harness h = noPrefixCache(64, 0, 64, 64);
        for (int q = 0; q < 3; q++) {
            h.submit("q" + q, prompt(3, 20, 5, 10 + q), List.of(item(0, "cat", 3, 20)), 4);
            h.runToCompletion(20);
        }
        assertThat(h.model.encodesOf("cat")).isEqualTo(1);
        SchedulerStats s = h.scheduler.stats();
        assertThat(s.encoderCacheMisses()).isEqualTo(1);
        assertThat(s.encoderCacheHits()).isEqualTo(2);
        assertThat(s.encoderRowsScheduled()).isEqualTo(20);
        assertThat(s.encoderCacheRowsUsed()).isEqualTo(20);
        assertThat(chunksOf(h, "q2").get(0).encodeItems()).isEmpty();
        assertThat(chunksOf(h, "q2").get(0).mediaInChunk()).containsExactly(item(0, "cat", 3, 20));
        h.assertOutputsMatchReference();
    }

    @Test
    void oneImageAskedThreeQuestionsAtOnceIsEncodedOnceInTheFirstChunk() {
        Harness h = noPrefixCache(128, 0, 64, 64);
        for (int q = 0; q < 3; q++) {
            h.submit("q" + q, prompt(3 + q, 20, 5, 20 + q), List.of(item(0, "cat", 3 + q, 20)), 4);
        }
        SchedulerOutput first = h.step();
        assertThat(first.chunks()).hasSize(3);
        assertThat(first.chunks().get(0).encodeItems()).containsExactly(item(0, "cat", 3, 20));
        assertThat(first.chunks().get(1).encodeItems()).isEmpty();
        assertThat(first.chunks().get(2).mediaInChunk()).containsExactly(item(0, "cat", 5, 20));
        // The two later requests' encoder budget was not spent on the shared image.
        assertThat(first.numEncoderRows()).isEqualTo(20);
        h.runToCompletion(20);
        assertThat(h.model.encodesOf("cat")).isEqualTo(1);
        h.assertOutputsMatchReference();
    }

    @Test
    void chunkIsCutBeforeAnItemTheEncoderBudgetCannotTake() {
        Harness h = noPrefixCache(64, 0, 24, 64);
        h.submit("a", prompt(4, 16, 4, 1), List.of(item(0, "a-img", 4, 16)), 3);
        h.submit("b", prompt(6, 16, 4, 2), List.of(item(0, "b-img", 6, 16)), 3);
        h.submit("c", prompt(0, 10, 4, 3), List.of(item(0, "c-img", 0, 10)), 3);
        SchedulerOutput s1 = h.step();
        // a takes 16 of 24 rows; b's item does not fit in the 8 left: b stops before it; c's item is
        // at its first position, so c gets nothing and, FCFS, waits.
        assertThat(s1.chunks()).extracting(ScheduledChunk::requestId).containsExactly("a", "b");
        assertThat(chunkIn(s1, "a").encodeItems()).extracting(MediaItem::hash).containsExactly("a-img");
        ScheduledChunk b1 = chunkIn(s1, "b");
        assertThat(b1.numTokens()).isEqualTo(6);
        assertThat(b1.encodeItems()).isEmpty();
        assertThat(b1.mediaInChunk()).isEmpty();
        assertThat(h.scheduler.numWaiting()).isEqualTo(1);
        SchedulerOutput s2 = h.step();
        assertThat(chunkIn(s2, "b").encodeItems()).extracting(MediaItem::hash).containsExactly("b-img");
        assertThat(chunkIn(s2, "c")).as("8 rows left, c needs 10").isNull();
        SchedulerOutput s3 = h.step();
        assertThat(chunkIn(s3, "c").encodeItems()).extracting(MediaItem::hash).containsExactly("c-img");
        h.runToCompletion(20);
        h.assertOutputsMatchReference();
    }

    @Test
    void runningRequestAtAnItemItCannotEncodeSkipsTheStepWhileOthersProceed() {
        Harness h = noPrefixCache(64, 8, 16, 64);
        h.submit("a", prompt(8, 32, 4, 4), List.of(item(0, "x", 8, 16), item(1, "y", 24, 16)), 2);
        h.submit("b", prompt(8, 8, 4, 5), List.of(item(0, "z", 8, 8)), 2);
        h.step(); // both compute [0, 8): no media yet
        SchedulerOutput s2 = h.step();
        assertThat(s2.chunks()).extracting(ScheduledChunk::requestId).containsExactly("a");
        assertThat(s2.chunks().get(0).encodeItems()).extracting(MediaItem::hash).containsExactly("x");
        assertThat(h.sequences.get("b").numComputedTokens()).isEqualTo(8);
        SchedulerOutput s3 = h.step();
        assertThat(chunkIn(s3, "a").encodeItems()).isEmpty();
        assertThat(chunkIn(s3, "b").encodeItems()).extracting(MediaItem::hash).containsExactly("z");
        h.runToCompletion(30);
        h.assertOutputsMatchReference();
    }

    @Test
    void itemSpanningChunksIsEncodedOnceAndItsRowsMergedAcrossChunks() {
        Harness h = noPrefixCache(8, 0, 64, 64);
        MediaItem img = item(0, "long", 3, 20);
        int[] p = prompt(3, 20, 7, 6);
        Sequence a = h.submit("a", p, List.of(img), 3);
        h.step();
        assertThat(h.scheduler.encoderCache().refCount("long")).isEqualTo(1);
        h.step();
        h.step();
        // [16, 24) passed the item's end (23): the reference is released, the output stays cached.
        assertThat(h.scheduler.encoderCache().refCount("long")).isZero();
        assertThat(h.scheduler.encoderCache().has("long")).isTrue();
        h.runToCompletion(20);
        List<ScheduledChunk> chunks = chunksOf(h, "a");
        assertThat(chunks).extracting(ScheduledChunk::numTokens).startsWith(8, 8, 8, 6);
        assertThat(chunks.get(0).encodeItems()).containsExactly(img);
        for (int i = 0; i < 3; i++) {
            assertThat(chunks.get(i).mediaInChunk()).as("chunk %d", i).containsExactly(img);
        }
        assertThat(chunks.subList(1, chunks.size())).allSatisfy(c -> assertThat(c.encodeItems()).isEmpty());
        assertThat(chunks.get(3).mediaInChunk()).isEmpty();
        assertThat(h.model.encodesOf("long")).isEqualTo(1);
        h.assertOutputsMatchReference();
        // The media really enters the outputs: without it they differ.
        assertThat(a.outputTokenIds()).isNotEqualTo(FakePagedModel.reference(p, List.of(), 3, 512, 256));
    }

    @Test
    void theSameImageTwiceInOnePromptIsEncodedOnceAndHeldUntilBothAreComputed() {
        Harness h = noPrefixCache(8, 0, 64, 64);
        int[] p = prompt(2, 24, 4, 7);
        h.submit("a", p, List.of(item(0, "dup", 2, 10), item(1, "dup", 14, 10)), 3);
        SchedulerOutput s1 = h.step();
        assertThat(s1.chunks().get(0).encodeItems()).containsExactly(item(0, "dup", 2, 10));
        SchedulerOutput s2 = h.step(); // [8, 16): the end of the first and the start of the second
        assertThat(s2.chunks().get(0).mediaInChunk()).hasSize(2);
        assertThat(s2.chunks().get(0).encodeItems()).isEmpty();
        assertThat(h.scheduler.encoderCache().refCount("dup")).isEqualTo(1);
        h.runToCompletion(20);
        assertThat(h.model.encodesOf("dup")).isEqualTo(1);
        h.assertOutputsMatchReference();
    }

    @Test
    void unreferencedOutputsAreEvictedLeastRecentlyUsedFirst() {
        Harness h = noPrefixCache(64, 0, 64, 8);
        String[] order = {"img1", "img2", "img1", "img3", "img1", "img2"};
        for (int r = 0; r < order.length; r++) {
            h.submit("r" + r, prompt(2, 4, 2, 30 + r), List.of(item(0, order[r], 2, 4)), 2);
            h.runToCompletion(10);
        }
        // img3 evicts img2 (img1 was used more recently); img2 then evicts img3.
        List<String> freed = h.history.stream().flatMap(o -> o.freedEncoderHashes().stream()).toList();
        assertThat(freed).containsExactly("img2", "img3");
        assertThat(h.model.encodesOf("img1")).isEqualTo(1);
        assertThat(h.model.encodesOf("img2")).isEqualTo(2);
        assertThat(h.model.encodesOf("img3")).isEqualTo(1);
        SchedulerStats s = h.scheduler.stats();
        assertThat(s.encoderCacheEvictions()).isEqualTo(2);
        assertThat(s.encoderCacheHits()).isEqualTo(2);
        assertThat(s.encoderCacheMisses()).isEqualTo(4);
        assertThat(s.encoderCacheRowsTotal()).isEqualTo(8);
        h.assertOutputsMatchReference();
    }
}
