package io.sparkmm.connector.engine;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.checkpoint.ModelLocation;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The executor JVM's engines, one per {@link EngineKey}.
 *
 * <p>Why a JVM singleton: Spark runs every task of an executor as a thread in one JVM and gives
 * tasks no place of their own to keep state between them. A model's weights, KV pool and caches
 * are far too big to load per task, and continuous batching only pays off when concurrent tasks
 * feed the same engine. So this class is the one deliberate global: created lazily on the first
 * task that asks (thread-safe, a key's model loads once even when tasks race), shared by
 * concurrent tasks, kept for later stages and jobs, and closed by a JVM shutdown hook when the
 * executor exits. Everything else in the connector is passed explicitly.
 *
 * <p>The processor cache is JVM-wide too: its keys include the model id, so engines for
 * different models can share it safely; its size is fixed by the first caller.
 */
public final class ExecutorEngines {

    // Spark's own logging (slf4j -> log4j2), so the lines land in the executor logs next to Spark's
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorEngines.class);
    /** Seconds between progress lines; a system property so executors can be tuned via extraJavaOptions. */
    public static final String PROGRESS_INTERVAL_PROPERTY = "sparkmm.progressIntervalSeconds";

    private static final Map<EngineKey, Slot> ENGINES = new ConcurrentHashMap<>();
    private static volatile ProcessorCache processorCache;
    private static volatile ScheduledExecutorService progress;

    private ExecutorEngines() {
    }

    /** A key's engine: loads it on first use; concurrent callers for one key wait for one load. */
    public static SharedEngine get(EngineKey key, long processorCacheBytes) {
        Slot slot = ENGINES.computeIfAbsent(key, k -> new Slot());
        return slot.get(key, processorCacheBytes);
    }

    /** Engines loaded in this JVM now (for tests and metrics). */
    public static List<SharedEngine> loaded() {
        List<SharedEngine> out = new ArrayList<>();
        for (Slot s : ENGINES.values()) {
            SharedEngine e = s.engine;
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    /** The JVM-wide processor cache, created with the first caller's size. */
    public static synchronized ProcessorCache processorCache(long bytes) {
        if (processorCache == null) {
            processorCache = new ProcessorCache(bytes);
        }
        return processorCache;
    }

    /** Closes every engine (the shutdown hook; tests may call it between classes). */
    public static void closeAll() {
        for (Map.Entry<EngineKey, Slot> e : ENGINES.entrySet()) {
            SharedEngine engine = e.getValue().engine;
            ENGINES.remove(e.getKey());
            if (engine != null) {
                try {
                    engine.close();
                } catch (RuntimeException ex) {
                    LOG.warn("sparkmm: closing the engine for " + e.getKey().modelPath() + " failed", ex);
                }
            }
        }
    }

    /** Holds one key's engine; the lock is per key, so loading one model never blocks another. */
    private static final class Slot {
        private volatile SharedEngine engine;

        SharedEngine get(EngineKey key, long processorCacheBytes) {
            SharedEngine e = engine;
            if (e != null) {
                return e;
            }
            synchronized (this) {
                if (engine == null) {
                    engine = load(key, processorCacheBytes);
                }
                return engine;
            }
        }
    }

    private static SharedEngine load(EngineKey key, long processorCacheBytes) {
        long t0 = System.nanoTime();
        Backend backend = Backends.create(key.device(), Integer.getInteger(Backends.THREADS_PROPERTY,
                Runtime.getRuntime().availableProcessors()));
        LoadedModel model = null;
        try {
            model = LoadedModel.open(ModelLocation.resolve(key.modelPath()), backend);
            Engine engine = new Engine(model, key.engineConfig());
            MultimodalProcessor processor = new MultimodalProcessor(model, processorCache(processorCacheBytes),
                    MediaLimits.defaults());
            SharedEngine shared = new SharedEngine(key, backend, model, engine, processor);
            startHousekeeping();
            LOG.info(String.format(Locale.ROOT, "sparkmm: engine %d for %s on %s loaded in %.1f s (pid %d)",
                    shared.id(), key.modelPath(), backend.name(), (System.nanoTime() - t0) / 1e9,
                    ProcessHandle.current().pid()));
            return shared;
        } catch (RuntimeException | Error e) {
            if (model != null) {
                model.close();
            }
            backend.close();
            throw e;
        }
    }

    private static synchronized void startHousekeeping() {
        if (progress != null) {
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorEngines::closeAll, "sparkmm-engines-shutdown"));
        long interval = Long.getLong(PROGRESS_INTERVAL_PROPERTY, 30L);
        progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkmm-progress");
            t.setDaemon(true);
            return t;
        });
        Map<Long, long[]> last = new ConcurrentHashMap<>();
        progress.scheduleAtFixedRate(() -> logProgress(last, interval), interval, interval, TimeUnit.SECONDS);
    }

    /** One line per engine that did work since the last line: rows/s and tokens/s over the interval. */
    private static void logProgress(Map<Long, long[]> last, long intervalSeconds) {
        for (SharedEngine e : loaded()) {
            long rows = e.rows();
            long gen = e.generatedTokens();
            long[] prev = last.getOrDefault(e.id(), new long[2]);
            if (rows == prev[0]) {
                continue;
            }
            last.put(e.id(), new long[] {rows, gen});
            LOG.info(String.format(Locale.ROOT,
                    "sparkmm progress: engine %d (pid %d): %d rows (%d errors), %.1f rows/s, %.1f generated tokens/s, "
                            + "%d prompt tokens, kv %.0f%%, prefix hits %.0f%%",
                    e.id(), ProcessHandle.current().pid(), rows, e.errors(), (rows - prev[0]) / (double) intervalSeconds,
                    (gen - prev[1]) / (double) intervalSeconds, e.promptTokens(),
                    100 * e.engine().metrics().kvUsage(), 100 * e.engine().metrics().prefixHitRate()));
        }
    }
}
