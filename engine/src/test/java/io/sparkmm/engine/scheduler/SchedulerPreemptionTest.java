package io.sparkmm.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulerPreemptionTest {

    /** The first step after {@code from} in which {@code id} has a chunk. */
    private static ScheduledChunk nextChunk(Harness h, int from, String id) {
        for (int s = from; s < h.history.size(); s++) {
            for (ScheduledChunk c : h.history.get(s).chunks()) {
                if (c.requestId().equals(id)) {
                    return c;
                }
            }
        }
        throw new AssertionError(id + " never scheduled after step " + from);
    }

    private static int firstPreemptionStep(Harness h) {
        for (int s = 0; s < h.history.size(); s++) {
            if (!h.history.get(s).preemptedRequestIds().isEmpty()) {
                return s;
            }
        }
        throw new AssertionError("no preemption happened");
    }

    @Test
    void tinyPoolPreemptsTheLastRunningWhichRecomputesFromZero() {
        // 6 blocks of 4 tokens: two requests of 8 + 12 tokens cannot both stay resident.
        Harness h = new Harness(Harness.config(64, 4, 6, 4, false, 1024, 0));
        Sequence a = h.submit("a", Harness.tokens(8, 11), 12);
        Sequence b = h.submit("b", Harness.tokens(8, 12), 12);
        h.runToCompletion(100);

        int s = firstPreemptionStep(h);
        assertThat(h.history.get(s).preemptedRequestIds()).containsExactly("b");
        // Nothing is admitted in a step that preempted.
        assertThat(h.history.get(s).chunks()).extracting(ScheduledChunk::requestId).containsExactly("a");
        ScheduledChunk resumed = nextChunk(h, s + 1, "b");
        assertThat(resumed.startPosition()).isZero();
        // The re-prefill covers prompt and the outputs generated before preemption, so its
        // length is more than the prompt.
        assertThat(resumed.numTokens()).isGreaterThan(8);
        assertThat(b.numPreemptions()).isEqualTo(1);
        assertThat(a.numPreemptions()).isZero();
        assertThat(h.scheduler.stats().preemptions()).isEqualTo(1);
        h.assertOutputsMatchReference();
        assertThat(h.scheduler.stats().kvBlocksUsed()).isZero();
    }

    @Test
    void theCurrentRequestCanBeItsOwnVictim() {
        // a (8 tokens) takes the last free block first; later b (6 tokens) needs a third block,
        // nobody runs after it, so b itself is preempted and not scheduled in that step.
        Harness h = new Harness(Harness.config(64, 4, 5, 4, false, 1024, 0));
        h.submit("a", Harness.tokens(8, 13), 8);
        h.submit("b", Harness.tokens(6, 14), 8);
        h.runToCompletion(100);
        int s = firstPreemptionStep(h);
        SchedulerOutput out = h.history.get(s);
        assertThat(out.preemptedRequestIds()).containsExactly("b");
        assertThat(out.chunks()).extracting(ScheduledChunk::requestId).containsExactly("a");
        h.assertOutputsMatchReference();
    }

    @Test
    void severalVictimsGoBackInTheirOriginalOrder() {
        // 12 blocks of 4. Step 1: a 16 tokens (4 blocks), b and c 4 each (1 block each).
        // Step 2: a 16 more (8 blocks), b and c decode into a second block: pool full.
        // Step 3: a's last 12 tokens need 3 more blocks: c (2 blocks) is not enough, b goes too.
        Harness h = new Harness(Harness.config(40, 8, 12, 4, false, 1024, 16));
        h.submit("a", Harness.tokens(44, 15), 3);
        h.submit("b", Harness.tokens(4, 16), 6);
        h.submit("c", Harness.tokens(4, 17), 6);
        h.step();
        h.step();
        SchedulerOutput third = h.step();
        assertThat(third.preemptedRequestIds()).containsExactly("c", "b");
        assertThat(third.chunks()).extracting(ScheduledChunk::requestId).containsExactly("a");
        assertThat(third.chunks().get(0).numTokens()).isEqualTo(12);
        // Back at the head of the queue in their original order, so FCFS is preserved.
        assertThat(h.scheduler.waitingSnapshot()).extracting(Sequence::requestId).containsExactly("b", "c");
        assertThat(h.scheduler.stats().preemptions()).isEqualTo(2);
        h.runToCompletion(100);
        h.assertOutputsMatchReference();
    }

    @Test
    void aRequestOutgrowingTheWholePoolIsFinishedNotStuck() {
        // 4 blocks of 4 tokens: the 17th token could never be computed, so the request ends at 17.
        Harness h = new Harness(Harness.config(64, 4, 4, 4, false, 1024, 0));
        Sequence a = h.submit("a", Harness.tokens(10, 20), 100);
        h.runToCompletion(50);
        assertThat(a.status()).isEqualTo(SequenceStatus.FINISHED);
        assertThat(a.numTokens()).isEqualTo(17);
        h.assertOutputsMatchReference();
    }

    @Test
    void preemptedRequestCanHitItsOwnCachedBlocksOnReadmission() {
        Harness h = new Harness(Harness.config(64, 4, 12, 4, true, 1024, 0));
        Sequence a = h.submit("a", Harness.tokens(16, 18), 20);
        Sequence b = h.submit("b", Harness.tokens(16, 19), 20);
        h.runToCompletion(200);
        assertThat(b.numPreemptions()).isPositive();
        // b's full blocks stayed cached after preemption (freed tail-first, hashes kept), so
        // it did not restart from zero.
        assertThat(b.numCachedTokens()).isPositive();
        assertThat(a.numPreemptions()).isZero();
        h.assertOutputsMatchReference();
    }
}
