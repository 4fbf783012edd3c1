package io.sparkmm.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulerChunkingTest {

    private static List<Integer> chunkLengths(Harness h, String id) {
        List<Integer> lens = new ArrayList<>();
        for (SchedulerOutput out : h.history) {
            for (ScheduledChunk c : out.chunks()) {
                if (c.requestId().equals(id)) {
                    lens.add(c.numTokens());
                }
            }
        }
        return lens;
    }

    @Test
    void longPromptIsSplitByTheBudgetAndSamplesOnlyAfterTheLastChunk() {
        Harness h = new Harness(Harness.config(32, 8, 64, 16, true, 1024, 0));
        h.submit("a", Harness.tokens(100, 1), 3);
        for (int expected : new int[] {32, 32, 32}) {
            SchedulerOutput out = h.step();
            assertThat(out.chunks()).singleElement().satisfies(c -> {
                assertThat(c.numTokens()).isEqualTo(expected);
                assertThat(c.samples()).isFalse();
            });
        }
        SchedulerOutput last = h.step();
        assertThat(last.chunks()).singleElement().satisfies(c -> {
            assertThat(c.startPosition()).isEqualTo(96);
            assertThat(c.numTokens()).isEqualTo(4);
            assertThat(c.samples()).isTrue();
            assertThat(c.blockTable()).hasSize(7);
        });
        assertThat(h.sequences.get("a").numOutputTokens()).isEqualTo(1);
        h.runToCompletion(10);
        // Then two decode steps of one token each.
        assertThat(chunkLengths(h, "a")).containsExactly(32, 32, 32, 4, 1, 1);
        h.assertOutputsMatchReference();
    }

    @Test
    void decodesShareStepsWithPrefillChunks() {
        Harness h = new Harness(Harness.config(32, 8, 64, 16, true, 1024, 0));
        h.submit("short", Harness.tokens(8, 2), 6);
        h.submit("long", Harness.tokens(100, 3), 2);
        SchedulerOutput first = h.step();
        assertThat(first.chunks()).extracting(ScheduledChunk::requestId).containsExactly("short", "long");
        assertThat(first.chunks()).extracting(ScheduledChunk::numTokens).containsExactly(8, 24);
        SchedulerOutput second = h.step();
        // Running requests keep admission order; the decode and the next chunk fill one budget.
        assertThat(second.chunks()).extracting(ScheduledChunk::numTokens).containsExactly(1, 31);
        assertThat(second.chunks()).extracting(ScheduledChunk::samples).containsExactly(true, false);
        assertThat(second.numBatchedTokens()).isEqualTo(32);
        h.runToCompletion(20);
        assertThat(chunkLengths(h, "long")).containsExactly(24, 31, 31, 14, 1);
        h.assertOutputsMatchReference();
    }

    @Test
    void longPrefillThresholdCapsEveryRequestPerStep() {
        Harness h = new Harness(Harness.config(64, 8, 64, 16, false, 1024, 10));
        h.submit("a", Harness.tokens(25, 4), 2);
        h.submit("b", Harness.tokens(12, 5), 2);
        SchedulerOutput first = h.step();
        assertThat(first.chunks()).extracting(ScheduledChunk::numTokens).containsExactly(10, 10);
        h.runToCompletion(20);
        assertThat(chunkLengths(h, "a")).containsExactly(10, 10, 5, 1);
        assertThat(chunkLengths(h, "b")).containsExactly(10, 2, 1);
        h.assertOutputsMatchReference();
    }

    @Test
    void maxNumSeqsKeepsLaterRequestsWaiting() {
        Harness h = new Harness(Harness.config(256, 2, 64, 4, false, 1024, 0));
        h.submit("a", Harness.tokens(5, 6), 2);
        h.submit("b", Harness.tokens(5, 7), 4);
        h.submit("c", Harness.tokens(5, 8), 2);
        h.step();
        assertThat(h.scheduler.numRunning()).isEqualTo(2);
        assertThat(h.scheduler.numWaiting()).isEqualTo(1);
        h.step(); // a samples its second token and finishes
        SchedulerOutput third = h.step();
        assertThat(third.chunks()).extracting(ScheduledChunk::requestId).containsExactly("b", "c");
        h.runToCompletion(20);
        h.assertOutputsMatchReference();
    }

    @Test
    void aRequestReachingMaxModelLenIsFinishedByTheScheduler() {
        Harness h = new Harness(Harness.config(64, 4, 64, 4, true, 14, 0));
        Sequence seq = h.submit("a", Harness.tokens(10, 9), 100);
        h.runToCompletion(20);
        assertThat(seq.status()).isEqualTo(SequenceStatus.FINISHED);
        assertThat(seq.numTokens()).isEqualTo(14);
        h.assertOutputsMatchReference(); // the reference also stops at maxModelLen
    }

    @Test
    void stepWithNothingToDoIsEmpty() {
        Scheduler s = new Scheduler(Harness.config(16, 4, 8, 4, true, 64, 0));
        SchedulerOutput out = s.schedule();
        assertThat(out.chunks()).isEmpty();
        assertThat(out.numBatchedTokens()).isZero();
        // An empty step need not be passed to update.
        assertThat(s.schedule().chunks()).isEmpty();
        assertThat(s.hasUnfinished()).isFalse();
    }
}
