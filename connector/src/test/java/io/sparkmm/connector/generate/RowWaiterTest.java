package io.sparkmm.connector.generate;

import io.sparkmm.engine.EngineClosedException;
import io.sparkmm.engine.EngineResult;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The bounded wait for one row: no engine needed, the futures stand in for requests. */
class RowWaiterTest {

    private static final Duration SLICE = Duration.ofMillis(20);

    @Test
    void aRowPastItsLimitIsCancelledAndNamedWithTheLimit() throws Exception {
        AtomicInteger cancels = new AtomicInteger();
        RowWaiter waiter = new RowWaiter(Duration.ofMillis(150), SLICE, () -> false);
        long t0 = System.nanoTime();
        EngineResult r = waiter.await("img-7.png", "req-1", new CompletableFuture<>(), cancels::incrementAndGet, t0);
        long waitedMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.ok()).isFalse();
        assertThat(r.error()).contains("row img-7.png").contains("rowTimeoutSeconds=0.15");
        assertThat(cancels).hasValue(1);
        // it waited for the limit, and not a whole extra slice-loop beyond it
        assertThat(waitedMs).isBetween(140L, 2_000L);
    }

    @Test
    void theLimitCountsFromSubmissionNotFromWhenTheTaskStartsWaiting() throws Exception {
        RowWaiter waiter = new RowWaiter(Duration.ofMillis(100), SLICE, () -> false);
        long submittedLongAgo = System.nanoTime() - Duration.ofSeconds(5).toNanos();
        long t0 = System.nanoTime();
        EngineResult r = waiter.await("k1", "req-1", new CompletableFuture<>(), () -> { }, submittedLongAgo);
        assertThat(r.error()).contains("row k1");
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000L);
    }

    @Test
    void aResultThatIsAlreadyThereWinsOverAnExpiredLimitAndAStoppedEngine() throws Exception {
        // the engine's own answer (here one it failed itself) is passed through untouched
        EngineResult ok = EngineResult.failed("req-1", 3, "the engine's own message");
        RowWaiter waiter = new RowWaiter(Duration.ofMillis(1), SLICE, () -> true);
        assertThat(waiter.await("k", "req-1", CompletableFuture.completedFuture(ok), () -> { }, 0L)).isSameAs(ok);
    }

    @Test
    void aClosedEngineNamesTheRowAndSaysTheEngineStopped() throws Exception {
        RowWaiter waiter = new RowWaiter(Duration.ZERO, SLICE, () -> false);
        CompletableFuture<EngineResult> f = CompletableFuture.failedFuture(
                new EngineClosedException("the engine is shut down; request req-3 was not run"));
        EngineResult r = waiter.await("row-key-3", "req-3", f, () -> { }, System.nanoTime());
        assertThat(r.error()).contains("row row-key-3").contains("engine stopped").contains("req-3 was not run");
    }

    @Test
    void anEngineStoppedUnderAPendingRowEndsTheWaitWithoutALimit() throws Exception {
        AtomicBoolean stopped = new AtomicBoolean();
        RowWaiter waiter = new RowWaiter(Duration.ZERO, SLICE, stopped::get);
        CompletableFuture<EngineResult> never = new CompletableFuture<>();
        Thread stopper = new Thread(() -> {
            sleep(100);
            stopped.set(true);
        });
        stopper.start();
        EngineResult r = waiter.await("k9", "req-9", never, () -> { }, System.nanoTime());
        stopper.join();
        assertThat(r.error()).contains("row k9").contains("engine stopped");
    }

    @Test
    void otherFailuresAreTheRowsErrorWithItsName() throws Exception {
        RowWaiter waiter = new RowWaiter(Duration.ZERO, SLICE, () -> false);
        EngineResult r = waiter.await("k2", "req-2", CompletableFuture.failedFuture(new IllegalStateException("boom")),
                () -> { }, System.nanoTime());
        assertThat(r.error()).isEqualTo("row k2: boom");
    }

    @Test
    void badLimitsAreRefused() {
        assertThatThrownBy(() -> new RowWaiter(Duration.ofSeconds(-1), SLICE, () -> false)).hasMessageContaining("PT-1S");
        assertThatThrownBy(() -> new RowWaiter(Duration.ZERO, Duration.ZERO, () -> false)).hasMessageContaining("slice");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
