package io.sparkmm.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SchedulerBadInputTest {

    /** 4 blocks of 4 tokens = 16 tokens of pool; maxModelLen 64. */
    private static Harness harness() {
        return new Harness(Harness.config(64, 4, 4, 4, true, 64, 0));
    }

    @Test
    void emptyPrompt() {
        Harness h = harness();
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("e", new int[0], null, List.of(), 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("e").hasMessageContaining("empty prompt");
        assertThat(h.scheduler.numWaiting()).isZero();
        assertThat(h.scheduler.hasUnfinished()).isFalse();
    }

    @Test
    void promptNotShorterThanMaxModelLen() {
        Harness h = new Harness(Harness.config(64, 4, 64, 4, true, 20, 0));
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("x", Harness.tokens(20, 1), null, List.of(), 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxModelLen 20")
                .hasMessageContaining("20 tokens");
        assertThat(h.scheduler.numWaiting()).isZero();
        h.submit("ok", Harness.tokens(19, 2), 5);
        h.runToCompletion(10);
        assertThat(h.sequences.get("ok").numTokens()).isEqualTo(20);
    }

    @Test
    void promptNeedingMoreBlocksThanThePool() {
        Harness h = harness();
        h.submit("before", Harness.tokens(6, 3), 3);
        // 16 prompt tokens + 1 need 5 blocks; the pool has 4.
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("big", Harness.tokens(16, 4), null, List.of(), 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("big")
                .hasMessageContaining("needs 5 KV blocks").hasMessageContaining("only 4");
        assertThat(h.scheduler.numWaiting()).isEqualTo(1);
        h.submit("fits", Harness.tokens(15, 5), 1);
        h.submit("after", Harness.tokens(5, 6), 3);
        h.runToCompletion(50);
        h.assertOutputsMatchReference();
    }

    @Test
    void duplicateIdAndMediaOutsideThePrompt() {
        Harness h = harness();
        h.submit("a", Harness.tokens(5, 7), 2);
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("a", Harness.tokens(5, 8), null, List.of(), 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already");
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("m", Harness.tokens(5, 8), null,
                List.of(new ExtraKeyRange(3, 9, "img")), 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond the prompt");
        assertThatThrownBy(() -> new ExtraKeyRange(4, 4, "img")).isInstanceOf(IllegalArgumentException.class);
        assertThat(h.scheduler.numWaiting()).isEqualTo(1);
        h.runToCompletion(10);
        h.assertOutputsMatchReference();
    }

    @Test
    void badConfig() {
        assertThatThrownBy(() -> new SchedulerConfig(0, 4, 4, 4, true, 64, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxNumBatchedTokens");
        assertThatThrownBy(() -> new SchedulerConfig(8, 0, 4, 4, true, 64, 0)).hasMessageContaining("maxNumSeqs");
        assertThatThrownBy(() -> new SchedulerConfig(8, 4, 0, 4, true, 64, 0)).hasMessageContaining("numBlocks");
        assertThatThrownBy(() -> new SchedulerConfig(8, 4, 4, 0, true, 64, 0)).hasMessageContaining("blockSize");
        assertThatThrownBy(() -> new SchedulerConfig(8, 4, 4, 4, true, 1, 0)).hasMessageContaining("maxModelLen");
        assertThatThrownBy(() -> new SchedulerConfig(8, 4, 4, 4, true, 64, -1))
                .hasMessageContaining("longPrefillTokenThreshold");
    }

    @Test
    void misuseOfScheduleAndUpdate() {
        Harness h = harness();
        h.submit("a", Harness.tokens(5, 9), 3);
        SchedulerOutput out = h.scheduler.schedule();
        assertThatThrownBy(h.scheduler::schedule).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> h.scheduler.update(out, Map.of(), Set.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no sampled token for a");
        // The failed update changed nothing; a correct one still works, and only once.
        assertThat(h.sequences.get("a").numComputedTokens()).isZero();
        h.scheduler.update(out, Map.of("a", 1), Set.of());
        assertThat(h.sequences.get("a").numComputedTokens()).isEqualTo(5);
        assertThatThrownBy(() -> h.scheduler.update(out, Map.of("a", 1), Set.of()))
                .isInstanceOf(IllegalStateException.class);
    }
}
