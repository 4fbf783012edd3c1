package io.sparkmm.connector.generate;

import io.sparkmm.connector.engine.EngineLease;
import io.sparkmm.connector.engine.ExecutorEngines;
import io.sparkmm.connector.engine.SharedEngine;
import io.sparkmm.processors.media.RemoteFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.util.TaskCompletionListener;

import java.util.Iterator;

/**
 * One task's rows through the executor's shared engine: the engine lease and the
 * {@link OrderedWindow} over it, for the DataFrame path ({@code Row}s) and the SQL operator
 * ({@code InternalRow}s) alike, so both get the same look-ahead, ordering, metrics and clean-up.
 */
public final class TaskWindow {

    private TaskWindow() {
    }

    /**
     * Holds the engine of {@code settings} while the rows last; the last row lets it go, and so do a
     * failed task and a consumer that stops early (their requests are cancelled).
     */
    public static <I, O> Iterator<O> open(GeneratorSettings settings, RemoteFiles remoteFiles, GeneratorMetrics metrics,
                                          Iterator<I> rows, OrderedWindow.RowHandler<I, O> handler) {
        EngineLease lease = ExecutorEngines.acquire(settings.engineKey(), settings.processorCacheBytes());
        try {
            SharedEngine engine = lease.engine();
            OrderedWindow<I, O> window = new OrderedWindow<>(rows, settings.lookAhead(), engine,
                    new RequestFactory(settings, engine.processor(), remoteFiles), handler, settings.mode(), metrics,
                    new RowWaiter(settings.rowTimeout(), RowWaiter.DEFAULT_SLICE, engine::isClosed));
            // later work of this task (a sort, a write) must not keep the engine from idle eviction
            window.onEnd(lease::close);
            TaskContext task = TaskContext.get();
            if (task != null) {
                task.addTaskCompletionListener((TaskCompletionListener) ctx -> {
                    try {
                        window.cancelAll();
                    } finally {
                        lease.close();
                    }
                });
            }
            return window;
        } catch (RuntimeException | Error e) {
            lease.close();
            throw e;
        }
    }

    /** The partition of the running task, 0 outside one (a driver-side evaluation). */
    public static int partition() {
        TaskContext task = TaskContext.get();
        return task == null ? 0 : task.partitionId();
    }
}
