package io.sparkmm.engine.scheduler;

import static io.sparkmm.engine.scheduler.Media.chunksOf;
import static io.sparkmm.engine.scheduler.Media.item;
import static io.sparkmm.engine.scheduler.Media.prompt;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * In-flight prefix sharing: a waiting request whose next prefix block another request is computing
 * in the same step sits the step out and then hits the block. Outputs are checked against the
 * fake model's reference (what each request computes alone), so waiting must not change tokens.
 */
class SchedulerPrefixWaitTest {
    private static final int BS = 16;

    private static SchedulerConfig config(int threshold) {
        return Harness.config(512, 8, 64, BS, true, 1024, threshold);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static List<String> idsOf(SchedulerOutput out) {
        return out.chunks().stream().map(ScheduledChunk::requestId).toList();
    }

    @Test
    void aFollowerSubmittedWithItsProducerWaitsOneStepAndHitsTheSharedBlocks() {
        Harness h = new Harness(config(0));
        int[] shared = Harness.tokens(48, 1);
        h.submit("a", concat(shared, Harness.tokens(7, 2)), 4);
        Sequence b = h.submit("b", concat(shared, Harness.tokens(9, 3)), 4);
        assertThat(idsOf(h.step())).containsExactly("a");
        assertThat(b.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(b.numPrefixWaits()).isEqualTo(1);
        h.step();
        assertThat(b.numCachedTokens()).isEqualTo(48);
        assertThat(chunksOf(h, "b").get(0).startPosition()).isEqualTo(48);
        h.runToCompletion(20);
        h.assertOutputsMatchReference();
        SchedulerStats s = h.scheduler.stats();
        assertThat(s.prefixWaits()).isEqualTo(1);
        assertThat(s.prefixHitTokens()).isEqualTo(48);
        assertThat(h.kv().numInFlightBlocks()).as("nothing left in flight").isZero();
    }

    @Test
    void withTheWaitOffBothComputeTheSharedBlocksInTheSameStep() {
        Harness h = new Harness(config(0).withMaxPrefixWaitSteps(0));
        int[] shared = Harness.tokens(48, 1);
        h.submit("a", concat(shared, Harness.tokens(7, 2)), 4);
        Sequence b = h.submit("b", concat(shared, Harness.tokens(9, 3)), 4);
        assertThat(idsOf(h.step())).containsExactly("a", "b");
        assertThat(b.numCachedTokens()).isZero();
        h.runToCompletion(20);
        h.assertOutputsMatchReference();
        assertThat(h.scheduler.stats().prefixWaits()).isZero();
    }

    @Test
    void requestsBehindAWaitingOneGoInTheSameStepAndItKeepsItsPlace() {
        Harness h = new Harness(config(0));
        int[] shared = Harness.tokens(32, 4);
        h.submit("a", concat(shared, Harness.tokens(5, 5)), 3);
        h.submit("b", concat(shared, Harness.tokens(6, 6)), 3);
        h.submit("c", Harness.tokens(40, 7), 3);
        assertThat(idsOf(h.step())).containsExactly("a", "c");
        assertThat(h.scheduler.waitingSnapshot()).extracting(Sequence::requestId).containsExactly("b");
        assertThat(idsOf(h.step())).containsExactly("a", "c", "b");
        h.runToCompletion(20);
        h.assertOutputsMatchReference();
    }

    @Test
    void aFollowerWaitsAcrossTheProducersPrefillChunksAndHitsTheWholeSharedPrefix() {
        // 16 tokens per request per step: a's 64-token prefix takes four steps
        Harness h = new Harness(config(16));
        int[] shared = Harness.tokens(64, 8);
        h.submit("a", concat(shared, Harness.tokens(10, 9)), 3);
        Sequence b = h.submit("b", concat(shared, Harness.tokens(12, 10)), 3);
        for (int step = 1; step <= 4; step++) {
            assertThat(idsOf(h.step())).as("step %d", step).containsExactly("a");
        }
        assertThat(b.numPrefixWaits()).isEqualTo(4);
        h.step();
        assertThat(b.status()).isEqualTo(SequenceStatus.RUNNING);
        assertThat(b.numCachedTokens()).isEqualTo(64);
        h.runToCompletion(30);
        h.assertOutputsMatchReference();
    }

    @Test
    void theWaitIsBoundedByMaxPrefixWaitStepsAfterWhichTheFollowerComputesTheRest() {
        Harness h = new Harness(config(16).withMaxPrefixWaitSteps(2));
        int[] shared = Harness.tokens(64, 11);
        h.submit("a", concat(shared, Harness.tokens(10, 12)), 3);
        Sequence b = h.submit("b", concat(shared, Harness.tokens(12, 13)), 3);
        h.step();
        h.step();
        assertThat(idsOf(h.step())).containsExactly("a", "b");
        assertThat(b.numPrefixWaits()).isEqualTo(2);
        assertThat(b.numCachedTokens()).as("the two blocks a finished while b waited").isEqualTo(32);
        h.runToCompletion(30);
        h.assertOutputsMatchReference();
    }

    @Test
    void anAbortedProducerReleasesItsWaiterWhichTakesWhatWasComputed() {
        Harness h = new Harness(config(16));
        int[] shared = Harness.tokens(64, 14);
        h.submit("a", concat(shared, Harness.tokens(10, 15)), 3);
        Sequence b = h.submit("b", concat(shared, Harness.tokens(12, 16)), 3);
        h.step();
        assertThat(b.numPrefixWaits()).isEqualTo(1);
        assertThat(h.scheduler.abort("a")).isTrue();
        assertThat(h.kv().numInFlightBlocks()).as("a's uncomputed blocks are no longer in flight").isZero();
        assertThat(idsOf(h.step())).containsExactly("b");
        // a's first block stays cached after the abort; the rest b computes itself, without waiting again
        assertThat(b.numCachedTokens()).isEqualTo(16);
        assertThat(b.numPrefixWaits()).isEqualTo(1);
        h.runToCompletion(30);
        h.assertOutputsMatchReference();
    }

    @Test
    void aPreemptedProducerReleasesItsWaiter() {
        // 9 blocks of 4; 6 tokens per request per step, so a prefills over several steps while x
        // decodes into new blocks, until a's prompt (7 blocks) and x no longer fit together
        Harness h = new Harness(Harness.config(12, 4, 9, 4, true, 256, 6));
        int[] shared = Harness.tokens(24, 17);
        h.submit("x", Harness.tokens(6, 18), 12);
        h.step(); // x runs and keeps decoding, so it grows into new blocks
        h.submit("a", concat(shared, Harness.tokens(4, 19)), 3);
        Sequence b = h.submit("b", concat(shared, Harness.tokens(5, 20)), 3);
        int guard = 0;
        while (h.scheduler.stats().preemptions() == 0) {
            assertThat(guard++).as("steps until a preemption").isLessThan(40);
            h.step();
        }
        assertThat(h.kv().blockTable("a")).as("a was the victim").isEmpty();
        assertThat(b.numPrefixWaits()).as("b waited for a").isPositive();
        h.runToCompletion(300);
        h.assertOutputsMatchReference();
        assertThat(h.kv().numInFlightBlocks()).isZero();
    }

    @Test
    void aFollowerOfTheSameImageWaitsAndTheImageIsEncodedOnce() {
        Harness h = new Harness(Media.config(512, 8, 64, 4, true, 512, 0, 64, 64));
        int[] p = prompt(4, 16, 6, 30);
        int[] q = p.clone();
        q[22] += 1; // another question about the same image
        h.submit("a", p, List.of(item(0, "cat", 4, 16)), 2);
        Sequence b = h.submit("b", q, List.of(item(0, "cat", 4, 16)), 2);
        assertThat(idsOf(h.step())).containsExactly("a");
        h.runToCompletion(10);
        assertThat(b.numPrefixWaits()).isEqualTo(1);
        assertThat(b.numCachedTokens()).as("text and image blocks").isEqualTo(20);
        assertThat(chunksOf(h, "b")).allSatisfy(c -> assertThat(c.mediaInChunk()).isEmpty());
        assertThat(h.model.encodesOf("cat")).isEqualTo(1);
        h.assertOutputsMatchReference();
    }

    @Test
    void anotherImageAtTheSamePlaceholderPositionsDoesNotWait() {
        Harness h = new Harness(Media.config(512, 8, 64, 4, true, 512, 0, 64, 64));
        // the image first, so every block of the two prompts differs by its extra key
        int[] p = prompt(0, 16, 6, 31);
        h.submit("a", p, List.of(item(0, "cat", 0, 16)), 2);
        Sequence b = h.submit("b", p.clone(), List.of(item(0, "dog", 0, 16)), 2);
        assertThat(idsOf(h.step())).containsExactly("a", "b");
        assertThat(b.numPrefixWaits()).isZero();
        h.runToCompletion(10);
        h.assertOutputsMatchReference();
    }

    @Test
    void aRequestWhoseOnlySharedBlockHoldsItsLastTokenDoesNotWait() {
        // b is exactly a's first block: that block could never be served to b (its last token must be computed)
        Harness h = new Harness(config(0));
        int[] block = Harness.tokens(16, 21);
        h.submit("a", concat(block, Harness.tokens(20, 22)), 3);
        Sequence b = h.submit("b", block.clone(), 3);
        assertThat(idsOf(h.step())).containsExactly("a", "b");
        assertThat(b.numPrefixWaits()).isZero();
        h.runToCompletion(20);
        h.assertOutputsMatchReference();
    }
}
