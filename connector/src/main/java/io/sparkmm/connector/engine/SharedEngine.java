package io.sparkmm.connector.engine;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.multimodal.MultimodalProcessor;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One executor's engine for one {@link EngineKey}: an {@link EngineSession} over weights it
 * shares with the other engines of the same model and device (the {@link EnginePool} owns the
 * weights, not this class), and the processor that turns rows into requests. Shared by every
 * task of the JVM; all members are thread-safe. The counters feed the periodic progress line of
 * {@link ExecutorEngines}; the use count and last-use time let the pool evict it when idle.
 */
public final class SharedEngine {

    private static final AtomicLong IDS = new AtomicLong();

    private final EngineKey key;
    private final SharedModels.ModelKey modelKey;
    private final EngineSession session;
    private final long id = IDS.incrementAndGet();
    private final LongAdder rows = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generatedTokens = new LongAdder();
    // guarded by the pool slot's lock; volatile so progress lines and waiters read them without it
    private volatile int users;
    private volatile long lastUsedNanos;
    private volatile boolean closed;

    SharedEngine(EngineKey key, SharedModels.ModelKey modelKey, EngineSession session, long nowNanos) {
        this.key = key;
        this.modelKey = modelKey;
        this.session = session;
        this.lastUsedNanos = nowNanos;
    }

    public EngineKey key() {
        return key;
    }

    /** The device word this executor resolved the key's device to (what the weights are keyed by). */
    public String device() {
        return modelKey.device();
    }

    public LoadedModel model() {
        return session.model();
    }

    public Engine engine() {
        return session.engine();
    }

    public MultimodalProcessor processor() {
        return session.requests();
    }

    /** Unique within the JVM: tests use (pid, id) to show one engine per executor. */
    public long id() {
        return id;
    }

    /** Whether this engine was stopped (evicted or shut down): a request still waiting on it gets no result. */
    public boolean isClosed() {
        return closed;
    }

    /** Tasks holding this engine now. */
    public int users() {
        return users;
    }

    /** Counts one finished row (ok or not) for the progress line. */
    public void recordRow(EngineResult result) {
        rows.increment();
        if (result == null || !result.ok()) {
            errors.increment();
        }
        if (result != null) {
            promptTokens.add(result.promptTokens());
            generatedTokens.add(result.completionTokens());
        }
    }

    SharedModels.ModelKey modelKey() {
        return modelKey;
    }

    void addUser(long nowNanos) {
        users++;
        lastUsedNanos = nowNanos;
    }

    void removeUser(long nowNanos) {
        if (users <= 0) {
            throw new IllegalStateException("sparkmm: engine " + id + " released more often than acquired");
        }
        users--;
        lastUsedNanos = nowNanos;
    }

    long lastUsedNanos() {
        return lastUsedNanos;
    }

    long rows() {
        return rows.sum();
    }

    long errors() {
        return errors.sum();
    }

    long promptTokens() {
        return promptTokens.sum();
    }

    long generatedTokens() {
        return generatedTokens.sum();
    }

    /** Stops the engine; the weights stay with the pool, which releases this engine's reference. */
    void stop() {
        closed = true;
        session.close();
    }
}
