package io.sparkmm.connector.generate;

import io.sparkmm.connector.engine.SharedEngine;
import io.sparkmm.connector.generate.GeneratorOptions.Mode;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.RequestHandle;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;

/**
 * The ordered look-ahead window of one task: keeps up to {@code size} rows in flight in the shared
 * engine (so continuous batching has work from every task) and hands results back strictly in
 * input order, as the head of the window completes. Each row's request is built here, in the task
 * thread, so media decoding runs in parallel across tasks and never in the engine loop. A row that
 * cannot be built never reaches the engine and comes out in its place with its error.
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

    private record Pending<I>(I row, String name, RequestHandle handle, String error) {
    }

    private final Iterator<I> input;
    private final int size;
    private final SharedEngine engine;
    private final RequestFactory factory;
    private final RowHandler<I, O> handler;
    private final Mode mode;
    private final GeneratorMetrics metrics;
    private final ArrayDeque<Pending<I>> window = new ArrayDeque<>();
    private long index;

    public OrderedWindow(Iterator<I> input, int size, SharedEngine engine, RequestFactory factory,
                         RowHandler<I, O> handler, Mode mode, GeneratorMetrics metrics) {
        this.input = input;
        this.size = size;
        this.engine = engine;
        this.factory = factory;
        this.handler = handler;
        this.mode = mode;
        this.metrics = metrics;
    }

    @Override
    public boolean hasNext() {
        fill();
        return !window.isEmpty();
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
        Object[] values = result != null ? GenerationSchema.values(result) : GenerationSchema.errorValues(error);
        return handler.output(head.row, values);
    }

    private void fill() {
        while (window.size() < size && input.hasNext()) {
            I row = input.next();
            long i = index++;
            RowInput in = null;
            try {
                in = handler.input(row, i);
                RequestHandle h = engine.engine().submit(factory.build(in));
                window.add(new Pending<>(row, in.name(), h, null));
            } catch (RuntimeException e) {
                String name = in != null ? in.name() : "at index " + i + " of the partition";
                window.add(new Pending<>(row, name, null, message(e)));
            }
        }
    }

    private EngineResult await(Pending<I> p) {
        try {
            return p.handle.result().get();
        } catch (InterruptedException e) {
            // Spark kills a task by interrupting it: give the engine its slots back
            cancelAll();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("sparkmm: interrupted while waiting for row " + p.name, e);
        } catch (ExecutionException e) {
            return EngineResult.failed(p.handle.requestId(), 0, message(e.getCause()));
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
