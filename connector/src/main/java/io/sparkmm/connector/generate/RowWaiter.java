package io.sparkmm.connector.generate;

import io.sparkmm.engine.EngineClosedException;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.RequestHandle;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Waits for one row's result without ever blocking a task for good. The wait is cut into short
 * slices so that, between them, the waiter notices an engine that was stopped under the row
 * (whose future may then never complete) and the row's own time limit. Whatever goes wrong comes
 * back as a failed result whose error names the row, so the caller treats it like any other bad
 * row (PERMISSIVE: the row's error; FAILFAST: the task fails naming the row).
 */
public final class RowWaiter {

    /** How often a waiting task looks at its engine and its clock. */
    public static final Duration DEFAULT_SLICE = Duration.ofSeconds(1);

    private final Duration rowTimeout;
    private final Duration slice;
    private final BooleanSupplier engineStopped;

    /**
     * @param rowTimeout a row's limit from its submission; zero = none (only a stopped engine ends the wait)
     * @param slice the longest single wait between checks
     * @param engineStopped whether the engine the rows were submitted to has been stopped
     */
    public RowWaiter(Duration rowTimeout, Duration slice, BooleanSupplier engineStopped) {
        if (rowTimeout.isNegative() || slice.isNegative() || slice.isZero()) {
            throw new IllegalArgumentException("sparkmm: the row timeout must be >= 0 and the wait slice > 0, got "
                    + rowTimeout + " and " + slice);
        }
        this.rowTimeout = rowTimeout;
        this.slice = slice;
        this.engineStopped = engineStopped;
    }

    public EngineResult await(String row, RequestHandle handle, long submittedNanos) throws InterruptedException {
        return await(row, handle.requestId(), handle.result(), handle::cancel, submittedNanos);
    }

    /**
     * The row's result, or a failed result naming the row when the engine stopped, the request
     * failed, or the row ran past its limit (its request is then cancelled, freeing its KV blocks).
     *
     * @param submittedNanos {@link System#nanoTime()} when the row was submitted: the limit counts
     *     the row's whole time in the engine, not just the time this task waited on it
     * @throws InterruptedException when the task is killed; the caller cancels what it has in flight
     */
    public EngineResult await(String row, String requestId, CompletableFuture<EngineResult> future, Runnable cancel,
                              long submittedNanos) throws InterruptedException {
        long limit = rowTimeout.toNanos();
        while (true) {
            long wait = slice.toNanos();
            if (limit > 0) {
                long left = submittedNanos + limit - System.nanoTime();
                if (left <= 0 && !future.isDone()) {
                    cancel.run();
                    return EngineResult.failed(requestId, 0, "row " + row + ": no result within the row time limit "
                            + GeneratorOptions.ROW_TIMEOUT_SECONDS.name() + "=" + seconds(rowTimeout)
                            + "; its request was cancelled");
                }
                wait = Math.max(0, Math.min(wait, left));
            }
            try {
                return future.get(wait, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // a stopped engine has failed or is failing everything it held; one that could not stop
                // cleanly may never complete this future, so do not wait for it
                if (engineStopped.getAsBoolean() && !future.isDone()) {
                    return EngineResult.failed(requestId, 0, "row " + row
                            + ": the engine stopped (it was shut down) before the row finished");
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                if (cause instanceof EngineClosedException) {
                    return EngineResult.failed(requestId, 0, "row " + row + ": the engine stopped before the row ran ("
                            + OrderedWindow.message(cause) + ")");
                }
                return EngineResult.failed(requestId, 0, "row " + row + ": " + OrderedWindow.message(cause));
            } catch (CancellationException e) {
                return EngineResult.failed(requestId, 0, "row " + row + ": its request was cancelled");
            }
        }
    }

    /** "5" or "0.05": the limit as the user wrote it, in the option's unit. */
    private static String seconds(Duration d) {
        return BigDecimal.valueOf(d.toMillis()).movePointLeft(3).stripTrailingZeros().toPlainString();
    }
}
