package io.sparkmm.kernels.simd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Both hand-offs: every index once per op, back to back and after the workers parked, failures, close. */
class WorkerPoolTest {

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void everyIndexRunsExactlyOnceInEveryOp(boolean spinning) {
        Random random = new Random(11);
        try (WorkerPool pool = new WorkerPool(3, true, spinning)) {
            for (int op = 0; op < 3000; op++) {
                int total = 1 + random.nextInt(200);
                int grain = 1 + random.nextInt(40);
                AtomicIntegerArray hits = new AtomicIntegerArray(total);
                pool.forChunks(total, grain, (start, end) -> {
                    for (int i = start; i < end; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < total; i++) {
                    assertThat(hits.get(i)).as("op %d index %d of %d", op, i, total).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void parkedWorkersWakeForTheNextOp() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int round = 0; round < 3; round++) {
                // well past the spin: the worker has parked and must be woken
                Thread.sleep(WorkerPool.SPIN_NANOS / 1_000_000 + 20);
                AtomicIntegerArray hits = new AtomicIntegerArray(64);
                pool.forChunks(64, 1, (start, end) -> {
                    for (int i = start; i < end; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < 64; i++) {
                    assertThat(hits.get(i)).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void aFailingChunkFailsItsOpOnlyAndThePoolKeepsWorking() {
        try (WorkerPool pool = new WorkerPool(2)) {
            assertThatThrownBy(() -> pool.forChunks(100, 5, (start, end) -> {
                if (start <= 42 && 42 < end) {
                    throw new IllegalArgumentException("row 42 is bad");
                }
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("row 42 is bad");
            AtomicIntegerArray hits = new AtomicIntegerArray(100);
            pool.forChunks(100, 5, (start, end) -> {
                for (int i = start; i < end; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 100; i++) {
                assertThat(hits.get(i)).isEqualTo(1);
            }
        }
    }

    @Test
    void closeStopsTheSpinningWorkers() throws InterruptedException {
        String prefix;
        try (WorkerPool pool = new WorkerPool(3)) {
            pool.forChunks(10, 1, (start, end) -> { });
            prefix = workerNamePrefix();
            assertThat(prefix).isNotNull();
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (liveWorkers(prefix) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(liveWorkers(prefix)).isZero();
    }

    /** "sparkmm-simd-N-" of the newest pool's workers. */
    private static String workerNamePrefix() {
        String newest = null;
        int best = -1;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String name = t.getName();
            if (name.startsWith("sparkmm-simd-")) {
                int pool = Integer.parseInt(name.split("-")[2]);
                if (pool > best) {
                    best = pool;
                    newest = "sparkmm-simd-" + pool + "-";
                }
            }
        }
        return newest;
    }

    private static long liveWorkers(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(prefix) && t.isAlive())
                .count();
    }
}
