package io.sparkmm.connector.generate;

import io.sparkmm.connector.engine.SharedEngine;
import io.sparkmm.connector.generate.GeneratorOptions.Mode;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.RequestHandle;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The ordered look-ahead window of one task: keeps up to {@code size} rows in flight in the shared
 * engine (so continuous batching has work from every task) and hands results back strictly in
 * input order, as the head of the window completes. Each row's request is built here, in the task
 * thread, so media decoding runs in parallel across tasks and never in the engine loop. A row that
 * cannot be built never reaches the engine and comes out in its place with its error; a row whose
 * engine stops, or that runs past {@code rowTimeoutSeconds}, gets an error naming it (see
 * {@link RowWaiter}) instead of blocking the task.
 *
 * @param <I> input row type
 * @param <O> output row type
 */
public final class OrderedWindow<I, O> implements Iterator<O> {

    /** How rows are read, built, and combined with their result. */
    public interface RowHandler<I, O> {
        RowInput input(I row, long index);

        /** The output row for {@code row}: its values plus the result struct's values. */
        O output(I row, Object[] resultValues);
    }

    private record Pending<I>(I row, String name, RequestHandle handle, long submittedNanos, String error) {
    }

    private final Iterator<I> input;
    private final int size;
    private final SharedEngine engine;
    private final RequestFactory factory;
    private final RowHandler<I, O> handler;
    private final Mode mode;
    private final GeneratorMetrics metrics;
    private final RowWaiter waiter;
    private final ArrayDeque<Pending<I>> window = new ArrayDeque<>();
    private final boolean withLogprobs;
    private final org.apache.spark.sql.types.StructType parsed;
    private Runnable onEnd = () -> { };
    private long index;

    public OrderedWindow(Iterator<I> input, int size, SharedEngine engine, RequestFactory factory,
                         RowHandler<I, O> handler, Mode mode, GeneratorMetrics metrics, RowWaiter waiter) {
        this.input = input;
        this.size = size;
        this.engine = engine;
        this.factory = factory;
        this.handler = handler;
        this.mode = mode;
        this.metrics = metrics;
        this.waiter = waiter;
        this.withLogprobs = factory.settings().withLogprobs();
        this.parsed = factory.settings().parsedType();
    }

    /**
     * Runs {@code action} once, as soon as the last row has been handed out, so the task lets go
     * of its engine without waiting for the task to end (a later stage of the same task may run
     * for long). It does not run when the consumer stops early or the task fails: the caller
     * covers those in its task completion listener.
     */
    public OrderedWindow<I, O> onEnd(Runnable action) {
        this.onEnd = action;
        return this;
    }

    @Override
    public boolean hasNext() {
        fill();
        if (window.isEmpty()) {
            Runnable r = onEnd;
            onEnd = () -> { };
            r.run();
            return false;
        }
        return true;
    }

    @Override
    public O next() {
        fill();
        Pending<I> head = window.poll();
        if (head == null) {
            throw new NoSuchElementException();
        }
        EngineResult result = head.error != null ? null : await(head);
        String error = result == null ? head.error : result.error();
        engine.recordRow(result);
        if (metrics != null) {
            metrics.record(result);
        }
        if (error != null && mode == Mode.FAILFAST) {
            cancelAll();
            throw new IllegalStateException("sparkmm: row " + head.name + " failed (mode FAILFAST): " + error);
        }
        Object[] values = result != null ? GenerationSchema.values(result, withLogprobs, parsed)
                : GenerationSchema.errorValues(error, withLogprobs, parsed);
        return handler.output(head.row, values);
    }

    private void fill() {
        while (window.size() < size && input.hasNext()) {
            I row = input.next();
            long i = index++;
            RowInput in = null;
            try {
                in = handler.input(row, i);
                var request = factory.build(in);
                long submitted = System.nanoTime();
                RequestHandle h = engine.engine().submit(request);
                window.add(new Pending<>(row, in.name(), h, submitted, null));
            } catch (RuntimeException e) {
                String name = in != null ? in.name() : "at index " + i + " of the partition";
                window.add(new Pending<>(row, name, null, 0L, message(e)));
            }
        }
    }

    private EngineResult await(Pending<I> p) {
        try {
            return waiter.await(p.name, p.handle, p.submittedNanos);
        } catch (InterruptedException e) {
            // Spark kills a task by interrupting it: give the engine its slots back
            p.handle.cancel();
            cancelAll();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("sparkmm: interrupted while waiting for row " + p.name, e);
        }
    }

    /** Cancels every request still in flight (task end, kill, FAILFAST, or a consumer that stopped early). */
    public void cancelAll() {
        for (Pending<I> p : window) {
            if (p.handle != null) {
                p.handle.cancel();
            }
        }
        window.clear();
    }

    static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getName();
    }
}
