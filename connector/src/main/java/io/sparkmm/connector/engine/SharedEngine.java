package io.sparkmm.connector.engine;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.kernels.Backend;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One executor's engine for one {@link EngineKey}: the loaded model, the engine (its loop thread)
 * and the processor that turns rows into requests. Shared by every task of the JVM; all members
 * are thread-safe. The counters feed the periodic progress line of {@link ExecutorEngines}.
 */
public final class SharedEngine implements AutoCloseable {

    private static final AtomicLong IDS = new AtomicLong();

    private final EngineKey key;
    private final Backend backend;
    private final LoadedModel model;
    private final Engine engine;
    private final MultimodalProcessor processor;
    private final long id = IDS.incrementAndGet();
    private final long createdNanos = System.nanoTime();
    private final LongAdder rows = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generatedTokens = new LongAdder();

    SharedEngine(EngineKey key, Backend backend, LoadedModel model, Engine engine, MultimodalProcessor processor) {
        this.key = key;
        this.backend = backend;
        this.model = model;
        this.engine = engine;
        this.processor = processor;
    }

    public EngineKey key() {
        return key;
    }

    public LoadedModel model() {
        return model;
    }

    public Engine engine() {
        return engine;
    }

    public MultimodalProcessor processor() {
        return processor;
    }

    /** Unique within the JVM: tests use (pid, id) to show one engine per executor. */
    public long id() {
        return id;
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

    long createdNanos() {
        return createdNanos;
    }

    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            try {
                model.close();
            } finally {
                backend.close();
            }
        }
    }
}
