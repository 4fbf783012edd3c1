package io.sparkmm.connector.engine;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A task's hold on a shared engine: while any lease on it is open the engine is never evicted
 * as idle. Closing is idempotent, so a task can close it both when its rows run out and in its
 * completion listener (which also covers failures and consumers that stop early).
 */
public final class EngineLease implements AutoCloseable {

    private final EnginePool pool;
    private final SharedEngine engine;
    private final AtomicBoolean closed = new AtomicBoolean();

    EngineLease(EnginePool pool, SharedEngine engine) {
        this.pool = pool;
        this.engine = engine;
    }

    public SharedEngine engine() {
        return engine;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            pool.release(engine);
        }
    }
}
