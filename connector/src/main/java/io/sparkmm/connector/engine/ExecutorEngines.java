package io.sparkmm.connector.engine;

import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.kernels.BackendProvider.Availability;
import io.sparkmm.kernels.Backends;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The executor JVM's engines: one {@link EnginePool} for the whole JVM, plus its housekeeping
 * thread (progress lines, idle eviction) and shutdown hook.
 *
 * <p>Why a JVM singleton: Spark runs every task of an executor as a thread in one JVM and gives
 * tasks no place of their own to keep state between them. A model's weights, KV pool and caches
 * are far too big to load per task, and continuous batching only pays off when concurrent tasks
 * feed the same engine. So this class is the one deliberate global: created lazily on the first
 * task that asks (thread-safe, a model loads once even when tasks race), shared by concurrent
 * tasks, kept for later stages and jobs until no task has used it for a while (see
 * {@link #IDLE_TIMEOUT_PROPERTY}), and closed by a JVM shutdown hook when the executor exits. Everything else in the connector is
 * passed explicitly.
 *
 * <p>The system properties below are per executor JVM (set them through
 * {@code spark.executor.extraJavaOptions}); they are read once, when the first engine is asked for.
 */
public final class ExecutorEngines {

    // Spark's own logging (slf4j -> log4j2), so the lines land in the executor logs next to Spark's
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorEngines.class);
    /** Seconds between progress lines (default 30). */
    public static final String PROGRESS_INTERVAL_PROPERTY = "sparkmm.progressIntervalSeconds";
    /**
     * Seconds an engine no task holds is kept before it is closed, freeing its KV pool (and the
     * weights, once no other engine uses them); a later task reloads it. 0 = keep forever.
     */
    public static final String IDLE_TIMEOUT_PROPERTY = "sparkmm.engineIdleTimeoutSeconds";
    public static final long DEFAULT_IDLE_TIMEOUT_SECONDS = 600;

    private static EnginePool pool;
    /** Device notes already logged: a note holds for every task like the one that raised it, once is enough. */
    private static final Set<String> NOTED = ConcurrentHashMap.newKeySet();

    private ExecutorEngines() {
    }

    /**
     * Holds the key's engine for the calling task, loading it on first use; close the lease when
     * the task is done with it (the engine stays loaded for later tasks until it is idle). Call it
     * from the task's thread: the device is resolved from the GPUs Spark assigned to that task
     * (see {@link DeviceAssignment}), so tasks on different GPUs get different engines.
     *
     * @throws IllegalArgumentException naming the option or property when a setting is bad or
     *     conflicts with this executor's (see {@link EnginePool#acquire})
     */
    public static EngineLease acquire(EngineKey key, long processorCacheBytes) {
        DeviceAssignment.Resolution r = DeviceAssignment.resolve(key.device(), EngineOptions.defaultDevice(),
                taskGpus(TaskContext.get()), cudaAvailability());
        if (r.note() != null && NOTED.add(r.note())) {
            LOG.warn("sparkmm: {}", r.note());
        }
        return pool().acquire(key, r.device(), processorCacheBytes);
    }

    /** The addresses of the task's "gpu" resource; none outside a task (mm_generate on the driver). */
    static List<String> taskGpus(TaskContext task) {
        if (task == null) {
            return List.of();
        }
        ResourceInformation gpu = task.resourcesJMap().get(DeviceAssignment.GPU_RESOURCE);
        return gpu == null ? List.of() : List.of(gpu.addresses());
    }

    /** Available when any provider named cuda is (Backends.open then picks that one); else the first one's reason. */
    private static Availability cudaAvailability() {
        List<Availability> cuda = Backends.devices().stream().filter(d -> d.name().equals(DeviceAssignment.CUDA))
                .map(Backends.Device::availability).toList();
        return cuda.stream().filter(Availability::available).findFirst()
                .orElse(cuda.isEmpty() ? Availability.unavailable("no 'cuda' backend is registered in this JVM (is"
                        + " its jar on the executor's class path?)") : cuda.get(0));
    }

    /** Engines loaded in this JVM now (for tests and metrics). */
    public static List<SharedEngine> loaded() {
        EnginePool p = existingPool();
        return p == null ? List.of() : p.loaded();
    }

    /** Closes every engine (the shutdown hook; tests may call it between classes). */
    public static void closeAll() {
        EnginePool p = existingPool();
        if (p != null) {
            p.closeAll();
        }
    }

    private static synchronized EnginePool existingPool() {
        return pool;
    }

    private static synchronized EnginePool pool() {
        if (pool == null) {
            long idle = longProperty(IDLE_TIMEOUT_PROPERTY, DEFAULT_IDLE_TIMEOUT_SECONDS);
            long interval = longProperty(PROGRESS_INTERVAL_PROPERTY, 30L);
            if (interval < 1) {
                throw new IllegalArgumentException("sparkmm: system property " + PROGRESS_INTERVAL_PROPERTY
                        + " must be >= 1, got " + interval);
            }
            pool = new EnginePool(k -> EngineSession.loadModel(k.modelPath(), k.device(), k.encoderOnnx()),
                    Duration.ofSeconds(idle), System::nanoTime);
            startHousekeeping(pool, idle, interval);
        }
        return pool;
    }

    private static long longProperty(String name, long def) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            return def;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n < 0) {
                throw new NumberFormatException("negative");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("sparkmm: system property " + name + " must be a whole number of "
                    + "seconds >= 0, got '" + v + "'", e);
        }
    }

    private static void startHousekeeping(EnginePool p, long idleSeconds, long interval) {
        Runtime.getRuntime().addShutdownHook(new Thread(p::closeAll, "sparkmm-engines-shutdown"));
        ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkmm-housekeeping");
            t.setDaemon(true);
            return t;
        });
        Map<Long, long[]> last = new ConcurrentHashMap<>();
        housekeeping.scheduleAtFixedRate(guarded("progress", () -> logProgress(p, last, interval)), interval, interval,
                TimeUnit.SECONDS);
        if (idleSeconds > 0) {
            // checks a few times per timeout, so an engine goes at most ~25% (at most a minute) late
            long every = Math.max(1, Math.min(60, idleSeconds / 4));
            housekeeping.scheduleWithFixedDelay(guarded("idle eviction", p::evictIdle), every, every, TimeUnit.SECONDS);
        }
    }

    /** A periodic job that throws is cancelled by the executor service: log and go on instead. */
    private static Runnable guarded(String what, Runnable job) {
        return () -> {
            try {
                job.run();
            } catch (RuntimeException e) {
                LOG.warn("sparkmm: " + what + " failed; will retry at the next period", e);
            }
        };
    }

    /** One line per engine that did work since the last line: rows/s and tokens/s over the interval. */
    private static void logProgress(EnginePool p, Map<Long, long[]> last, long intervalSeconds) {
        List<SharedEngine> engines = p.loaded();
        // forget evicted engines, so a long-lived executor that cycles through many does not accumulate them
        last.keySet().retainAll(engines.stream().map(SharedEngine::id).toList());
        for (SharedEngine e : engines) {
            long rows = e.rows();
            long gen = e.generatedTokens();
            long[] prev = last.getOrDefault(e.id(), new long[2]);
            if (rows == prev[0]) {
                continue;
            }
            last.put(e.id(), new long[] {rows, gen});
            LOG.info(String.format(Locale.ROOT,
                    "sparkmm progress: engine %d (pid %d): %d rows (%d errors), %.1f rows/s, %.1f generated tokens/s, "
                            + "%d prompt tokens, kv %.0f%%, prefix hits %.0f%%, %d task(s) using it",
                    e.id(), ProcessHandle.current().pid(), rows, e.errors(), (rows - prev[0]) / (double) intervalSeconds,
                    (gen - prev[1]) / (double) intervalSeconds, e.promptTokens(),
                    100 * e.engine().metrics().kvUsage(), 100 * e.engine().metrics().prefixHitRate(), e.users()));
        }
    }
}
