package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.engine.ExecutorEngines;
import io.sparkmm.connector.engine.SharedEngine;
import io.sparkmm.connector.generate.GeneratorMetrics;
import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.EngineMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.repeat;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A soak: 16 concurrent tasks ({@code local[16]}) push 20,000 rows through one executor engine
 * whose KV pool holds 32 blocks (512 tokens, a dozen sequences) while the tasks keep up to 1,024
 * requests waiting, so the scheduler must preempt. Few distinct images (the processor and encoder
 * caches are hit), 40 bad rows (corrupt image bytes, null prompts). It must finish within the
 * watchdog's limit (no deadlock; on a timeout every thread's stack is printed), give exactly one
 * output row per input row, errors on the bad rows only, and keep heap and direct memory bounded:
 * over a warmed-up engine the live heap after a full GC may grow by less than 64 MiB and the direct
 * buffers by less than 16 MiB, and the sampled heap (garbage included) stays under 90% of -Xmx. The
 * peaks are printed (measured on 2 shared cores: 32-53 s for the 20,000 rows, 100-135 preemptions,
 * live heap +1 to +3 MiB, sampled heap peak 0.7-1.1 GiB with garbage, direct 450-520 KiB with the
 * 256 KiB KV pool, +8 to +12 KiB at the peak).
 */
class SoakTest {

    private static final int ROWS = 20_000;
    private static final int TASKS = 16;
    /** 32 blocks of 16 tokens at 512 bytes per token (2 layers x K,V x 2 KV heads x 16 dims x f32). */
    private static final long KV_BYTES = 32L * 16 * 512;
    /** 3.3 KB per row would pass it: a per-row leak fails. The caches are bounded and hold 6 images here. */
    private static final long HEAP_GROWTH_LIMIT = 64L << 20;
    /** The KV pool is allocated before the baseline; nothing else in a local run needs direct buffers. */
    private static final long DIRECT_GROWTH_LIMIT = 16L << 20;
    /**
     * Sampled heap use counts garbage, which G1 lets fill its young generation (up to 60% of the heap)
     * before collecting, so a tight bound would measure the collector: this one says the run never
     * nears an OutOfMemoryError; the live-heap growth above is what catches a leak.
     */
    private static final long HEAP_PEAK_LIMIT = (long) (Runtime.getRuntime().maxMemory() * 0.9);
    /** About 7x the run's time on a 2-core machine. */
    private static final long WATCHDOG_SECONDS = 300;

    private static SparkSession spark;
    private static Path model;

    @BeforeAll
    static void start() {
        model = SparkTestSupport.checkpoint("soak");
        spark = SparkTestSupport.session("local[" + TASKS + "]", "SoakTest").getOrCreate();
        // engines left by earlier classes of this JVM would blur the memory baseline and the counters
        ExecutorEngines.closeAll();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Rows 0..n-1 in 16 partitions, made in the tasks (a driver-side list would put 30 MB of images in the plan). */
    private static Dataset<Row> rows(long n) {
        Column[] images = IntStream.range(0, 6).mapToObj(i -> lit(SparkTestSupport.png(i))).toArray(Column[]::new);
        Column id = col("id");
        return spark.range(0, n, 1, TASKS)
                .withColumn("prompt", when(id.mod(1000).equalTo(503), lit(null).cast("string"))
                        // 0..15 trailing '#' (one byte-level token each): prompt lengths cover every residue mod the
                        // block size, so some decodes need a new block from a full pool, which only a preemption frees
                        .otherwise(concat(lit("Tell me about thing "), id.mod(50).cast("string"), lit("."),
                                repeat(lit("#"), id.mod(16).cast("int")))))
                .withColumn("image", when(id.mod(1000).equalTo(7), lit("not an image".getBytes(StandardCharsets.UTF_8)))
                        .otherwise(element_at(array(images), id.mod(6).plus(1).cast("int"))));
    }

    private static boolean bad(long id) {
        return id % 1000 == 7 || id % 1000 == 503;
    }

    private static MultimodalGenerator generator() {
        return new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt").setImageCol("image")
                .setKeyCol("id").setMaxTokens(2).setTemperature(0).setDevice("cpu").setKvCacheBytes(KV_BYTES);
    }

    @Test
    void twentyThousandRowsUnderPreemptionStayBounded() throws Exception {
        // warm up: the engine, its weights and the caches exist before the baseline is taken
        assertThat(generator().transform(rows(64)).count()).isEqualTo(64);
        SharedEngine engine = ExecutorEngines.loaded().stream().filter(e -> e.key().modelPath().equals(model.toString()))
                .findFirst().orElseThrow();
        EngineMetrics before = engine.engine().metrics();
        long heapBase = liveHeap();
        long directBase = settledDirect();

        MultimodalGenerator generator = generator();
        Dataset<Row> out = generator.transform(rows(ROWS)).select(col("id"), col("generation.text"), col("generation.error"));
        MemorySampler sampler = new MemorySampler(engine);
        sampler.start();
        long t0 = System.nanoTime();
        List<Row> result = watchdog(() -> out.collectAsList());
        double seconds = (System.nanoTime() - t0) / 1e9;
        sampler.interrupt();
        sampler.join();
        long heapAfter = liveHeap();
        long directAfter = settledDirect();
        EngineMetrics after = engine.engine().metrics();
        GeneratorMetrics m = generator.lastMetrics();

        System.out.printf("SoakTest: %d rows, %d tasks in %.1f s (%.0f rows/s); preemptions %d; KV blocks %d, peak %d;"
                        + " most sequences in a step %d; engine users at once %d%n",
                ROWS, TASKS, seconds, ROWS / seconds, after.preemptions() - before.preemptions(), after.kvBlocksTotal(),
                after.kvBlocksPeak(), after.maxRunningSeqs(), sampler.peakUsers);
        System.out.printf("SoakTest: heap peak used %d MiB, live after GC %d -> %d MiB; direct peak %d KiB (%d -> %d"
                        + " KiB); mapped peak %d KiB%n", sampler.peakHeap >> 20, heapBase >> 20, heapAfter >> 20,
                sampler.peakDirect >> 10, directBase >> 10, directAfter >> 10, sampler.peakMapped >> 10);

        assertThat(result).hasSize(ROWS);
        BitSet seen = new BitSet(ROWS);
        Set<Long> errors = new HashSet<>();
        for (Row r : result) {
            long id = r.getLong(0);
            assertThat(seen.get((int) id)).as("row %d came out twice", id).isFalse();
            seen.set((int) id);
            if (r.getString(2) != null) {
                errors.add(id);
            } else {
                assertThat(r.getString(1)).as("text of row %d", id).isNotNull();
            }
        }
        assertThat(seen.cardinality()).as("distinct ids").isEqualTo(ROWS);
        Set<Long> expectedErrors = new HashSet<>();
        for (long id = 0; id < ROWS; id++) {
            if (bad(id)) {
                expectedErrors.add(id);
            }
        }
        assertThat(errors).as("error rows are the bad rows").isEqualTo(expectedErrors);
        assertThat(m.rows()).isEqualTo(ROWS);
        assertThat(m.errors()).isEqualTo(expectedErrors.size());

        assertThat(after.preemptions() - before.preemptions()).as("the small KV pool forced preemptions").isPositive();
        assertThat(sampler.peakUsers).as("tasks sharing the engine at once").isEqualTo(TASKS);
        // the CPU backend's KV pool is a direct buffer: the direct figures must see at least it
        assertThat(directBase).as("direct memory with the engine loaded").isGreaterThanOrEqualTo(KV_BYTES);
        assertThat(heapAfter - heapBase).as("live heap growth over 20,000 rows").isLessThan(HEAP_GROWTH_LIMIT);
        assertThat(sampler.peakHeap).as("heap in use at its peak").isLessThan(HEAP_PEAK_LIMIT);
        assertThat(sampler.peakDirect - directBase).as("direct memory growth at its peak").isLessThan(DIRECT_GROWTH_LIMIT);
    }

    /** Runs {@code action}; past the limit, prints every thread's stack, cancels the Spark jobs and fails. */
    private static <T> T watchdog(java.util.function.Supplier<T> action) throws Exception {
        CompletableFuture<T> f = CompletableFuture.supplyAsync(action);
        try {
            return f.get(WATCHDOG_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            StringBuilder dump = new StringBuilder("SoakTest: no result after " + WATCHDOG_SECONDS + " s; threads:\n");
            for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
                dump.append(t);
            }
            System.out.println(dump);
            spark.sparkContext().cancelAllJobs();
            throw new AssertionError("soak did not finish in " + WATCHDOG_SECONDS + " s (deadlock?); thread dump printed", e);
        }
    }

    /** Heap in use after a full collection: what the run keeps, not what it has yet to collect. */
    private static long liveHeap() throws InterruptedException {
        settle();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * Collects until the direct buffers stop shrinking: unreachable buffers (the KV pools of engines
     * that earlier classes of this JVM closed) are freed by their cleaner some time after a GC, and
     * a baseline taken before that would hide any growth of this run behind their release.
     */
    private static long settledDirect() throws InterruptedException {
        long last = -1;
        for (int i = 0; i < 50; i++) {
            settle();
            long now = direct();
            if (now == last) {
                return now;
            }
            last = now;
        }
        return last;
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }

    private static long direct() {
        return pool("direct");
    }

    private static long pool(String name) {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals(name)) {
                return b.getMemoryUsed();
            }
        }
        throw new IllegalStateException("no buffer pool " + name);
    }

    /** Samples heap, direct and mapped memory and the engine's users every 20 ms; keeps the peaks. */
    private static final class MemorySampler extends Thread {
        private final SharedEngine engine;
        volatile long peakHeap;
        volatile long peakDirect;
        volatile long peakMapped;
        volatile int peakUsers;

        MemorySampler(SharedEngine engine) {
            super("soak-memory-sampler");
            this.engine = engine;
            setDaemon(true);
        }

        @Override
        public void run() {
            while (!isInterrupted()) {
                peakHeap = Math.max(peakHeap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
                peakDirect = Math.max(peakDirect, direct());
                peakMapped = Math.max(peakMapped, pool("mapped"));
                peakUsers = Math.max(peakUsers, engine.users());
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
