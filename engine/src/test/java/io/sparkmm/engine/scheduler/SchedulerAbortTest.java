package io.sparkmm.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SchedulerAbortTest {

    @Test
    void abortOfAWaitingRequest() {
        Harness h = new Harness(Harness.config(64, 1, 32, 4, true, 256, 0));
        h.submit("a", Harness.tokens(10, 200), 4);
        Sequence b = h.submit("b", Harness.tokens(10, 201), 4);
        h.step();
        assertThat(h.scheduler.numWaiting()).isEqualTo(1);
        assertThat(h.scheduler.abort("b")).isTrue();
        assertThat(b.status()).isEqualTo(SequenceStatus.ABORTED);
        assertThat(h.scheduler.numWaiting()).isZero();
        assertThat(h.scheduler.abort("b")).as("second abort").isFalse();
        h.runToCompletion(20);
        h.assertOutputsMatchReference();
    }

    @Test
    void abortOfARunningRequestFreesItsBlocks() {
        Harness h = new Harness(Harness.config(64, 4, 32, 4, false, 256, 0));
        Sequence a = h.submit("a", Harness.tokens(10, 202), 50);
        h.step();
        h.step();
        assertThat(h.scheduler.stats().kvBlocksUsed()).isEqualTo(3);
        assertThat(h.scheduler.abort("a")).isTrue();
        assertThat(a.status()).isEqualTo(SequenceStatus.ABORTED);
        assertThat(h.scheduler.stats().kvBlocksUsed()).isZero();
        assertThat(h.kv().numFreeBlocks()).isEqualTo(32);
        assertThat(h.scheduler.numRunning()).isZero();
        assertThat(h.scheduler.hasUnfinished()).isFalse();
        h.checkPoolAccounting();
    }

    @Test
    void abortBetweenScheduleAndUpdateDropsThatChunk() {
        Harness h = new Harness(Harness.config(64, 4, 32, 4, true, 256, 0));
        Sequence a = h.submit("a", Harness.tokens(10, 203), 3);
        Sequence b = h.submit("b", Harness.tokens(10, 204), 3);
        SchedulerOutput out = h.scheduler.schedule();
        assertThat(h.scheduler.abort("a")).isTrue();
        h.scheduler.update(out, Map.of("a", 1, "b", 2), Set.of());
        assertThat(a.numOutputTokens()).isZero();
        assertThat(b.outputTokenIds()).containsExactly(2);
        assertThat(h.kv().blockTable("a")).isEmpty();
        h.checkPoolAccounting();
    }

    @Test
    void unknownAndFinishedIdsAreANoOp() {
        Harness h = new Harness(Harness.config(64, 4, 32, 4, true, 256, 0));
        assertThat(h.scheduler.abort("nope")).isFalse();
        h.submit("a", Harness.tokens(5, 205), 1);
        h.runToCompletion(5);
        assertThat(h.sequences.get("a").status()).isEqualTo(SequenceStatus.FINISHED);
        assertThat(h.scheduler.abort("a")).isFalse();
        assertThat(h.sequences.get("a").status()).isEqualTo(SequenceStatus.FINISHED);
    }

    @Test
    void engineFinishedSetEndsARequestAndFreesItsBlocks() {
        Harness h = new Harness(Harness.config(64, 4, 32, 4, true, 256, 0));
        Sequence a = h.submit("a", Harness.tokens(9, 206), 100);
        SchedulerOutput out = h.scheduler.schedule();
        h.scheduler.update(out, Map.of("a", 7), Set.of("a"));
        assertThat(a.status()).isEqualTo(SequenceStatus.FINISHED);
        // The stop token is still recorded as the last output.
        assertThat(a.outputTokenIds()).containsExactly(7);
        assertThat(h.scheduler.stats().kvBlocksUsed()).isZero();
        // Its two full blocks stay in the cache for later requests.
        assertThat(h.kv().pool().numCachedBlocks()).isEqualTo(2);
    }
}
