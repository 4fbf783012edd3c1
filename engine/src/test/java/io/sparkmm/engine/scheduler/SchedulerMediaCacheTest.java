package io.sparkmm.engine.scheduler;

import static io.sparkmm.engine.scheduler.Media.chunksOf;
import static io.sparkmm.engine.scheduler.Media.item;
import static io.sparkmm.engine.scheduler.Media.prompt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Media with the prefix cache and preemption, and bad media input. */
class SchedulerMediaCacheTest {

    @Test
    void prefixHitCoveringAnItemSkipsItsEncoding() {
        Harness h = new Harness(Media.config(64, 8, 64, 4, true, 512, 0, 64, 64));
        int[] p = prompt(4, 16, 6, 40);
        h.submit("a", p, List.of(item(0, "cat", 4, 16)), 2);
        h.runToCompletion(10);
        int[] q = p.clone();
        q[22] += 1; // differs only after the image
        Sequence b = h.submit("b", q, List.of(item(0, "cat", 4, 16)), 2);
        h.runToCompletion(10);
        assertThat(b.numCachedTokens()).isEqualTo(20);
        assertThat(chunksOf(h, "b")).allSatisfy(c -> assertThat(c.mediaInChunk()).isEmpty());
        SchedulerStats s = h.scheduler.stats();
        assertThat(s.encoderCacheMisses()).isEqualTo(1);
        assertThat(s.encoderCacheHits()).as("b never needed the output").isZero();
        h.assertOutputsMatchReference();
    }

    @Test
    void prefixHitEndingInsideAnItemReferencesTheCachedOutputAndMergesTheRestOfItsRows() {
        Harness h = new Harness(Media.config(12, 8, 64, 4, true, 512, 0, 64, 64));
        int[] p = prompt(4, 24, 4, 41);
        h.submit("a", p, List.of(item(0, "img", 4, 24)), 2);
        h.step(); // [0, 12): the item is encoded, 3 blocks cached
        assertThat(h.scheduler.abort("a")).isTrue();
        Sequence b = h.submit("b", p.clone(), List.of(item(0, "img", 4, 24)), 3);
        h.runToCompletion(20);
        assertThat(b.numCachedTokens()).isEqualTo(12);
        ScheduledChunk first = chunksOf(h, "b").get(0);
        assertThat(first.startPosition()).isEqualTo(12);
        assertThat(first.encodeItems()).isEmpty();
        assertThat(first.mediaInChunk()).containsExactly(item(0, "img", 4, 24));
        assertThat(h.model.encodesOf("img")).isEqualTo(1);
        assertThat(h.scheduler.stats().encoderCacheHits()).isEqualTo(1);
        h.assertOutputsMatchReference();
    }

    @Test
    void prefixHitEndingInsideAnEvictedItemEncodesTheWholeItemAgain() {
        Harness h = new Harness(Media.config(12, 8, 64, 4, true, 512, 0, 64, 24));
        int[] p = prompt(4, 24, 4, 42);
        h.submit("a", p, List.of(item(0, "img", 4, 24)), 2);
        h.step();
        h.scheduler.abort("a");
        h.submit("x", prompt(0, 24, 2, 43), List.of(item(0, "dog", 0, 24)), 2);
        h.runToCompletion(20);
        assertThat(h.scheduler.encoderCache().has("img")).isFalse();
        Sequence b = h.submit("b", p.clone(), List.of(item(0, "img", 4, 24)), 3);
        h.runToCompletion(20);
        assertThat(b.numCachedTokens()).isEqualTo(12);
        ScheduledChunk first = chunksOf(h, "b").get(0);
        assertThat(first.startPosition()).isEqualTo(12);
        assertThat(first.encodeItems()).containsExactly(item(0, "img", 4, 24));
        assertThat(h.model.encodesOf("img")).isEqualTo(2);
        h.assertOutputsMatchReference();
    }

    @Test
    void differentImagesAtTheSamePositionsNeverShareBlocks() {
        Harness h = new Harness(Media.config(64, 8, 64, 4, true, 512, 0, 64, 64));
        int[] p = prompt(4, 16, 6, 44);
        Sequence cat = h.submit("cat", p, List.of(item(0, "cat", 4, 16)), 4);
        h.runToCompletion(10);
        Sequence dog = h.submit("dog", p.clone(), List.of(item(0, "dog", 4, 16)), 4);
        h.runToCompletion(10);
        Sequence cat2 = h.submit("cat2", p.clone(), List.of(item(0, "cat", 4, 16)), 4);
        h.runToCompletion(10);
        // Only the text block before the image is shared with another image's request.
        assertThat(dog.numCachedTokens()).isEqualTo(4);
        assertThat(cat2.numCachedTokens()).isEqualTo(24);
        assertThat(dog.outputTokenIds()).isNotEqualTo(cat.outputTokenIds());
        assertThat(cat2.outputTokenIds()).containsExactly(cat.outputTokenIds());
        h.assertOutputsMatchReference();
    }

    @Test
    void preemptionReleasesTheReferencesAndTheCachedOutputIsReused() {
        // 6 blocks of 4 tokens, 4 tokens per request per step: b is preempted mid-image.
        Harness h = new Harness(Media.config(64, 4, 6, 4, false, 1024, 4, 64, 64));
        h.submit("a", Harness.tokens(12, 45), 12);
        Sequence b = h.submit("b", prompt(4, 12, 0, 46), List.of(item(0, "img", 4, 12)), 6);
        while (h.step().preemptedRequestIds().isEmpty()) {
            assertThat(h.history).hasSizeLessThan(20);
        }
        assertThat(h.history.get(h.history.size() - 1).preemptedRequestIds()).containsExactly("b");
        assertThat(b.numComputedTokens()).isZero();
        assertThat(h.scheduler.encoderCache().refCount("img")).isZero();
        assertThat(h.scheduler.encoderCache().has("img")).isTrue();
        h.runToCompletion(100);
        assertThat(h.model.encodesOf("img")).isEqualTo(1);
        assertThat(h.scheduler.stats().encoderCacheHits()).isPositive();
        h.assertOutputsMatchReference();
    }

    @Test
    void preemptedRequestWhoseOutputWasEvictedEncodesItAgain() {
        // Encoder cache of one image: a's image evicts b's while b waits after preemption.
        Harness h = new Harness(Media.config(64, 4, 8, 4, false, 1024, 4, 4, 4));
        h.submit("a", prompt(20, 4, 4, 47), List.of(item(0, "imgA", 20, 4)), 2);
        h.submit("b", prompt(0, 4, 8, 48), List.of(item(0, "imgB", 0, 4)), 10);
        h.runToCompletion(100);
        assertThat(h.sequences.get("b").numPreemptions()).isPositive();
        List<String> freed = h.history.stream().flatMap(o -> o.freedEncoderHashes().stream()).toList();
        assertThat(freed).contains("imgB");
        assertThat(h.model.encodesOf("imgB")).isGreaterThanOrEqualTo(2);
        h.assertOutputsMatchReference();
    }

    @Test
    void itemsTheEncoderCouldNeverTakeAreRejectedAndOthersRun() {
        Harness h = new Harness(Media.config(64, 4, 64, 4, true, 512, 0, 8, 12));
        h.submit("ok", prompt(2, 8, 2, 49), List.of(item(0, "fits", 2, 8)), 2);
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("big", prompt(2, 10, 2, 50),
                List.of(item(0, "huge", 2, 10)), null, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("big")
                .hasMessageContaining("10 encoder rows").hasMessageContaining("maxEncoderTokensPerStep");
        Harness h2 = new Harness(Media.config(64, 4, 64, 4, true, 512, 0, 64, 12));
        assertThatThrownBy(() -> h2.scheduler.add(new Sequence("big", prompt(2, 14, 2, 50),
                List.of(item(0, "huge", 2, 14)), null, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("encoderCacheRows");
        assertThat(h.scheduler.numWaiting()).isEqualTo(1);
        h.runToCompletion(10);
        h.assertOutputsMatchReference();
    }

    @Test
    void badMediaRangesAreRejectedByTheSequence() {
        int[] p = prompt(2, 10, 2, 51);
        assertThatThrownBy(() -> new Sequence("o", p, List.of(item(0, "a", 2, 6), item(1, "b", 6, 4)), null, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps");
        assertThatThrownBy(() -> new Sequence("u", p, List.of(item(0, "a", 8, 2), item(1, "b", 2, 4)), null, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sorted");
        assertThatThrownBy(() -> new Sequence("x", p, List.of(item(0, "a", 10, 5)), null, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond the prompt of 14");
        assertThatThrownBy(() -> new Sequence("d", p, List.of(item(0, "a", 2, 2), item(0, "b", 4, 2)), null, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("repeats index");
        assertThatThrownBy(() -> new MediaItem(0, "a", 2, 4, 5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("numEmbeddings");
        assertThatThrownBy(() -> new MediaItem(0, "a", -1, 4, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MediaItem(0, "a", 0, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        // Adjacent items are fine, and each becomes a prefix-cache extra key.
        Sequence ok = new Sequence("ok", p, List.of(item(0, "a", 2, 4), item(1, "b", 6, 6)), null, 0);
        assertThat(ok.extraKeys()).containsExactly(new ExtraKeyRange(2, 6, "a"), new ExtraKeyRange(6, 12, "b"));
    }

    @Test
    void encoderConfigDefaultsAndValidation() {
        SchedulerConfig c = new SchedulerConfig(48, 4, 8, 4, true, 64, 0);
        assertThat(c.maxEncoderTokensPerStep()).isEqualTo(48);
        assertThat(c.encoderCacheRows()).isEqualTo(48);
        SchedulerConfig big = c.withLargestMediaItem(576);
        assertThat(big.maxEncoderTokensPerStep()).isEqualTo(576);
        assertThat(big.encoderCacheRows()).isEqualTo(576);
        assertThat(c.withLargestMediaItem(10)).isEqualTo(c);
        assertThatThrownBy(() -> Media.config(8, 4, 4, 4, true, 64, 0, 0, 8)).hasMessageContaining("maxEncoderTokensPerStep");
        assertThatThrownBy(() -> Media.config(8, 4, 4, 4, true, 64, 0, 8, 0)).hasMessageContaining("encoderCacheRows");
    }
}
