package io.sparkmm.kernels.simd;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of daemon threads that split a range into chunks. Chunks are handed out
 * dynamically because the machine is usually shared (Spark executors, other tasks): a
 * static split would wait for the slowest thread.
 *
 * <p>Which thread runs a chunk never changes results: every kernel computes each output
 * element with code that depends only on that element's own inputs.
 *
 * <p>Two hand-offs. The executor one (an op's chunks submitted as tasks, the caller blocking on
 * their futures) costs a thread wake-up per op, measured here at tens of microseconds, longer
 * than a whole decode-sized matmul. The spinning one keeps {@code threads - 1} workers that,
 * after an op, spin for {@link #SPIN_NANOS} watching for the next one before they park, and a
 * caller that takes chunks itself and spins (then yields) until the workers are done: ops that
 * follow each other closely, as a model's layers do, then start without a wake-up.
 */
final class WorkerPool implements AutoCloseable {

    /** The work of one chunk, [start, end). */
    interface Body {
        void run(int start, int end);
    }

    /** How long an idle worker (or a waiting caller) spins before it parks (yields). */
    static final long SPIN_NANOS = 200_000;

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final int threads;
    private final ExecutorService executor;
    /** Whether the calling thread takes chunks too (false: it only waits, as before issue 18). */
    private final boolean callerWorks;

    // the spinning hand-off: one op at a time, published by a volatile write of generation
    private final Thread[] spinners;
    private final AtomicIntegerArray parked;
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private Body body;
    private int total;
    private int grain;
    private int chunks;
    private volatile long generation;
    private volatile boolean closed;

    WorkerPool(int threads) {
        this(threads, true, true);
    }

    WorkerPool(int threads, boolean callerWorks, boolean spinning) {
        this.callerWorks = callerWorks || spinning;
        if (threads < 1) {
            throw new IllegalArgumentException("the SIMD backend needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        int pool = POOLS.incrementAndGet();
        if (spinning) {
            this.executor = null;
            this.spinners = new Thread[threads - 1];
            this.parked = new AtomicIntegerArray(threads - 1);
            for (int w = 0; w < spinners.length; w++) {
                int id = w;
                Thread t = new Thread(() -> spin(id), "sparkmm-simd-" + pool + "-" + (w + 1));
                t.setDaemon(true);
                spinners[w] = t;
            }
            for (Thread t : spinners) {
                t.start();
            }
            return;
        }
        this.spinners = null;
        this.parked = null;
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
        if (spinners != null) {
            spinning(total, g, chunks, body);
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

    private synchronized void spinning(int total, int grain, int chunks, Body body) {
        this.body = body;
        this.total = total;
        this.grain = grain;
        this.chunks = chunks;
        nextChunk.set(0);
        failure.set(null);
        busy.set(spinners.length);
        generation++; // publishes the fields above
        for (int w = 0; w < spinners.length; w++) {
            if (parked.get(w) != 0) {
                LockSupport.unpark(spinners[w]);
            }
        }
        try {
            takeChunks();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        long spinEnd = System.nanoTime() + SPIN_NANOS;
        while (busy.get() > 0) {
            if (System.nanoTime() < spinEnd) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        this.body = null;
        Throwable t = failure.getAndSet(null);
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw t instanceof RuntimeException re ? re : new IllegalStateException(t);
        }
    }

    private void takeChunks() {
        int c;
        while ((c = nextChunk.getAndIncrement()) < chunks) {
            int start = c * grain;
            body.run(start, Math.min(total, start + grain));
        }
    }

    /** A spinning worker: each op once, then spin, then park until the next op's unpark. */
    private void spin(int id) {
        long seen = 0;
        while (!closed) {
            long g = generation;
            if (g != seen) {
                seen = g;
                try {
                    takeChunks();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    busy.decrementAndGet();
                }
                continue;
            }
            long spinEnd = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed && System.nanoTime() < spinEnd) {
                Thread.onSpinWait();
            }
            if (generation == seen && !closed) {
                parked.set(id, 1);
                // re-read after announcing: an op published in between is not missed
                if (generation == seen && !closed) {
                    LockSupport.park(this);
                }
                parked.set(id, 0);
            }
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
            return;
        }
        closed = true;
        for (Thread t : spinners) {
            LockSupport.unpark(t);
        }
    }
}
