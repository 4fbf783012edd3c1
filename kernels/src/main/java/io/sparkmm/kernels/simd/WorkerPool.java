package io.sparkmm.kernels.simd;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of daemon threads that split a range into chunks. Chunks are handed out
 * dynamically because the machine is usually shared (Spark executors, other tasks): a
 * static split would wait for the slowest thread.
 *
 * <p>Which thread runs a chunk never changes results: every kernel computes each output
 * element with code that depends only on that element's own inputs.
 */
final class WorkerPool implements AutoCloseable {

    /** The work of one chunk, [start, end). */
    interface Body {
        void run(int start, int end);
    }

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final int threads;
    private final ExecutorService executor;
    /** Whether the calling thread takes chunks too (false: it only waits, as before issue 18). */
    private final boolean callerWorks;

    WorkerPool(int threads) {
        this(threads, true);
    }

    WorkerPool(int threads, boolean callerWorks) {
        this.callerWorks = callerWorks;
        if (threads < 1) {
            throw new IllegalArgumentException("the SIMD backend needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        int pool = POOLS.incrementAndGet();
        AtomicInteger count = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "sparkmm-simd-" + pool + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    int threads() {
        return threads;
    }

    /**
     * Runs body over [0, total) in chunks of {@code grain}. With one thread or one chunk the
     * caller runs it inline: a hand-off would cost more than small ops take.
     */
    void forChunks(int total, int grain, Body body) {
        if (total <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int chunks = (int) (((long) total + g - 1) / g);
        if (threads == 1 || chunks == 1) {
            body.run(0, total);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                int start = c * g;
                body.run(start, Math.min(total, start + g));
            }
        };
        // The caller takes chunks too: one hand-off fewer per op, and no thread idles while waiting.
        int helpers = Math.min(threads, chunks) - (callerWorks ? 1 : 0);
        Future<?>[] futures = new Future<?>[helpers];
        for (int w = 0; w < helpers; w++) {
            futures[w] = executor.submit(worker);
        }
        RuntimeException failure = null;
        if (callerWorks) {
            try {
                worker.run();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = new IllegalStateException("interrupted while waiting for SIMD workers", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof Error err) {
                    throw err;
                }
                if (failure == null) {
                    failure = cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** A grain giving each thread a few chunks, so a slow thread can be helped out. */
    int grainFor(int total, int align) {
        int perChunk = Math.max(1, total / (threads * 4));
        return Math.max(align, (perChunk + align - 1) / align * align);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
