package io.sparkmm.connector.engine;

import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.processors.cache.ProcessorCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Engines by {@link EngineKey} and resolved device (see {@link DeviceAssignment}) over weights
 * shared per (model, device), with the processor cache
 * they share, use counts and idle eviction. {@link ExecutorEngines} keeps the JVM's one instance;
 * tests build their own with a fake clock.
 *
 * <p>Locking: each key has a slot whose lock covers loading, acquiring, releasing and stopping
 * its engine, so a task never gets an engine that eviction is closing, and a task that wants a key
 * being evicted waits until the old engine's KV pool is freed before a new one is allocated.
 * Slots stay in the map once created, for the reason given in {@link SharedModels}.
 */
final class EnginePool {

    private static final Logger LOG = LoggerFactory.getLogger(EnginePool.class);

    private final SharedModels models;
    private final long idleTimeoutNanos;
    private final LongSupplier nanoClock;
    private final Map<SlotKey, Slot> slots = new ConcurrentHashMap<>();
    // guarded by this
    private ProcessorCache processorCache;
    private long processorCacheBytes;

    /**
     * @param loader (location, device, encoder ONNX file) -> a model owning its backend; {@code EngineSession::loadModel} in production
     * @param idleTimeout how long an engine no task uses is kept; zero = forever
     * @param nanoClock the time source of idleness ({@code System::nanoTime} in production)
     */
    EnginePool(Function<SharedModels.ModelKey, LoadedModel> loader, Duration idleTimeout, LongSupplier nanoClock) {
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("sparkmm: the engine idle timeout must be >= 0, got " + idleTimeout);
        }
        this.models = new SharedModels(loader);
        this.idleTimeoutNanos = idleTimeout.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * An engine is the driver's key on one concrete device: the key keeps the user's word (so it
     * stays what the driver checked and shipped), the device is what this executor resolved it to.
     */
    private record SlotKey(EngineKey key, String device) {
    }

    /**
     * Holds {@code key}'s engine on {@code device} for a task, loading it (and the weights, unless
     * another engine already has them on that device) on first use. Concurrent callers for one key
     * and device wait for one load.
     *
     * @param device the concrete device word {@link DeviceAssignment} resolved the key's device to
     * @throws IllegalArgumentException if {@code processorCacheBytes} differs from the size the
     *     JVM-wide processor cache was created with
     */
    EngineLease acquire(EngineKey key, String device, long processorCacheBytes) {
        ProcessorCache cache = processorCache(processorCacheBytes);
        SharedEngine engine = slots.computeIfAbsent(new SlotKey(key, device), k -> new Slot())
                .acquire(key, device, cache, processorCacheBytes);
        return new EngineLease(this, engine);
    }

    void release(SharedEngine engine) {
        Slot slot = slots.get(new SlotKey(engine.key(), engine.device()));
        if (slot == null) {
            throw new IllegalStateException("sparkmm: engine " + engine.id() + " was not made by this pool");
        }
        slot.release(engine);
    }

    /**
     * The one processor cache of the pool: its keys include the model id, so engines of different
     * models share it safely, and one bound keeps its memory predictable. A second size cannot be
     * honoured without a second cache, so asking for one is an error rather than silently ignored.
     */
    synchronized ProcessorCache processorCache(long bytes) {
        if (processorCache == null) {
            processorCache = new ProcessorCache(bytes);
            processorCacheBytes = bytes;
        } else if (bytes != processorCacheBytes) {
            throw new IllegalArgumentException("sparkmm: option 'processorCacheBytes' is " + bytes
                    + ", but this executor's processor cache already exists with processorCacheBytes="
                    + processorCacheBytes + " (it is one cache per executor JVM, sized by the first engine): "
                    + "give every generation in this application the same processorCacheBytes");
        }
        return processorCache;
    }

    /** Engines loaded now (for tests and metrics). */
    List<SharedEngine> loaded() {
        List<SharedEngine> out = new ArrayList<>();
        for (Slot s : slots.values()) {
            SharedEngine e = s.engine;
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    /** Models (weights) loaded now. */
    int loadedModels() {
        return models.loadedCount();
    }

    /** Closes every engine no task holds and none used for longer than the idle timeout; returns how many. */
    int evictIdle() {
        if (idleTimeoutNanos == 0) {
            return 0;
        }
        int evicted = 0;
        for (Slot s : slots.values()) {
            if (s.evictIfIdle(nanoClock.getAsLong())) {
                evicted++;
            }
        }
        return evicted;
    }

    /** Closes every engine, used or not (executor shutdown; tests). Waiting rows fail with the engine closed. */
    void closeAll() {
        for (Slot s : slots.values()) {
            try {
                s.stop();
            } catch (RuntimeException ex) {
                LOG.warn("sparkmm: closing an engine failed", ex);
            }
        }
    }

    private final class Slot {
        private volatile SharedEngine engine;

        synchronized SharedEngine acquire(EngineKey key, String device, ProcessorCache cache, long cacheBytes) {
            if (engine == null) {
                engine = load(key, device, cache, cacheBytes);
            }
            engine.addUser(nanoClock.getAsLong());
            return engine;
        }

        synchronized void release(SharedEngine e) {
            e.removeUser(nanoClock.getAsLong());
        }

        synchronized boolean evictIfIdle(long now) {
            SharedEngine e = engine;
            if (e == null || e.users() > 0) {
                return false;
            }
            long idle = now - e.lastUsedNanos();
            if (idle < idleTimeoutNanos) {
                return false;
            }
            LOG.info(String.format(Locale.ROOT, "sparkmm: engine %d for %s on %s evicted after %.0f s without a task "
                            + "(idle timeout %d s, %s); a later task reloads it", e.id(), e.key().modelPath(), e.device(),
                    idle / 1e9, Duration.ofNanos(idleTimeoutNanos).toSeconds(), ExecutorEngines.IDLE_TIMEOUT_PROPERTY));
            stop();
            return true;
        }

        synchronized void stop() {
            SharedEngine e = engine;
            if (e == null) {
                return;
            }
            engine = null;
            try {
                e.stop();
            } finally {
                models.release(e.modelKey());
            }
        }
    }

    private SharedEngine load(EngineKey key, String device, ProcessorCache cache, long cacheBytes) {
        long t0 = System.nanoTime();
        SharedModels.ModelKey modelKey = new SharedModels.ModelKey(key.modelPath(), device, key.encoderOnnx());
        LoadedModel model = models.acquire(modelKey);
        try {
            EngineOptions options = new EngineOptions(device, key.engineConfig(), cacheBytes, null);
            SharedEngine shared = new SharedEngine(key, modelKey, EngineSession.over(model, options, cache),
                    nanoClock.getAsLong());
            LOG.info(String.format(Locale.ROOT, "sparkmm: engine %d for %s on %s (device option '%s', maxBatchedTokens %d, "
                            + "maxSeqs %d, kvCacheBytes %d) started in %.1f s, %d engine(s) share these weights (pid %d)",
                    shared.id(), key.modelPath(), device, key.device(), key.maxBatchedTokens(), key.maxSeqs(),
                    key.kvCacheBytes(),
                    (System.nanoTime() - t0) / 1e9, models.references(modelKey), ProcessHandle.current().pid()));
            return shared;
        } catch (RuntimeException | Error e) {
            models.release(modelKey);
            throw e;
        }
    }
}
