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
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

/**
 * Engines by {@link EngineKey} over weights shared per (model, device), with the processor cache
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
    private final Map<EngineKey, Slot> slots = new ConcurrentHashMap<>();
    // guarded by this
    private ProcessorCache processorCache;
    private long processorCacheBytes;

    /**
     * @param loader (location, device) -> a model owning its backend; {@code EngineSession::loadModel} in production
     * @param idleTimeout how long an engine no task uses is kept; zero = forever
     * @param nanoClock the time source of idleness ({@code System::nanoTime} in production)
     */
    EnginePool(BiFunction<String, String, LoadedModel> loader, Duration idleTimeout, LongSupplier nanoClock) {
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("sparkmm: the engine idle timeout must be >= 0, got " + idleTimeout);
        }
        this.models = new SharedModels(loader);
        this.idleTimeoutNanos = idleTimeout.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * Holds {@code key}'s engine for a task, loading it (and the weights, unless another engine
     * already has them) on first use. Concurrent callers for one key wait for one load.
     *
     * @throws IllegalArgumentException if {@code processorCacheBytes} differs from the size the
     *     JVM-wide processor cache was created with
     */
    EngineLease acquire(EngineKey key, long processorCacheBytes) {
        ProcessorCache cache = processorCache(processorCacheBytes);
        SharedEngine engine = slots.computeIfAbsent(key, k -> new Slot()).acquire(key, cache, processorCacheBytes);
        return new EngineLease(this, engine);
    }

    void release(SharedEngine engine) {
        Slot slot = slots.get(engine.key());
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
        for (Map.Entry<EngineKey, Slot> e : slots.entrySet()) {
            if (e.getValue().evictIfIdle(nanoClock.getAsLong())) {
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

        synchronized SharedEngine acquire(EngineKey key, ProcessorCache cache, long cacheBytes) {
            if (engine == null) {
                engine = load(key, cache, cacheBytes);
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

    private SharedEngine load(EngineKey key, ProcessorCache cache, long cacheBytes) {
        long t0 = System.nanoTime();
        String device = resolveDevice(key.device());
        SharedModels.ModelKey modelKey = new SharedModels.ModelKey(key.modelPath(), device);
        LoadedModel model = models.acquire(modelKey);
        try {
            EngineOptions options = new EngineOptions(device, key.engineConfig(), cacheBytes, null);
            SharedEngine shared = new SharedEngine(key, modelKey, EngineSession.over(model, options, cache),
                    nanoClock.getAsLong());
            LOG.info(String.format(Locale.ROOT, "sparkmm: engine %d for %s on %s (maxBatchedTokens %d, maxSeqs %d, "
                            + "kvCacheBytes %d) started in %.1f s, %d engine(s) share these weights (pid %d)",
                    shared.id(), key.modelPath(), device, key.maxBatchedTokens(), key.maxSeqs(), key.kvCacheBytes(),
                    (System.nanoTime() - t0) / 1e9, models.references(modelKey), ProcessHandle.current().pid()));
            return shared;
        } catch (RuntimeException | Error e) {
            models.release(modelKey);
            throw e;
        }
    }

    /**
     * "auto" is decided here, on the executor, where the devices are: the JVM's default device
     * ({@code sparkmm.device}, set per executor through extraJavaOptions) else the best available.
     * Resolving before keying the weights means "auto" and the word it stands for share one copy.
     */
    private static String resolveDevice(String device) {
        return EngineKey.AUTO.equals(device) ? EngineKey.normalizeDevice(EngineOptions.defaultDevice()) : device;
    }
}
