package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import org.apache.spark.SparkEnv;
import org.apache.spark.Success$;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults: one executor JVM of local-cluster[2,1,1024] is killed (SIGKILL, by pid) while a sampled
 * generation job runs. Spark's task retry finishes the job, and because each row's seed comes from
 * its content (RequestFactory.rowSeed), the output equals an undisturbed run row for row, byte for byte.
 */
class ExecutorKilledMidJobTest {

    private static final int ROWS = 240;
    private static final int PARTITIONS = 12;

    private static SparkSession spark;
    private static Path model;
    private static final TaskLog LOG = new TaskLog();

    @BeforeAll
    static void start() throws Exception {
        model = SparkTestSupport.checkpoint("executor-killed");
        String fastStart = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";
        spark = SparkTestSupport.session("local-cluster[2,1,1024]", "ExecutorKilledMidJobTest")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.executorEnv.SPARK_SQL_TESTING", "1")
                .config("spark.executor.memory", "512m")
                .config("spark.task.maxFailures", "4")
                .config("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector " + fastStart
                        + " -Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"))
                .getOrCreate();
        spark.sparkContext().addSparkListener(LOG);
        // both executors up before any job, or one would take every task
        waitFor("the two executors to register", 60,
                () -> spark.sparkContext().statusTracker().getExecutorInfos().length >= 3);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Runs on an executor: "executorId:pid" of the JVM it runs in. */
    static final class WhoAmI implements MapPartitionsFunction<Long, String> {
        @Override
        public Iterator<String> call(Iterator<Long> ignored) {
            return List.of(SparkEnv.get().executorId() + ":" + ProcessHandle.current().pid()).iterator();
        }
    }

    /** Task starts and ends as the driver sees them, and executor arrivals and losses. */
    static final class TaskLog extends SparkListener {
        final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        final AtomicInteger succeeded = new AtomicInteger();
        /** "stage:partition:executor:reason" of each failed task attempt. */
        final List<String> failed = new CopyOnWriteArrayList<>();
        /** "stage:partition" to the executor whose attempt succeeded. */
        final Map<String, String> successOn = new ConcurrentHashMap<>();
        final List<String> added = new CopyOnWriteArrayList<>();
        final List<String> removed = new CopyOnWriteArrayList<>();

        void reset() {
            running.clear();
            succeeded.set(0);
            failed.clear();
            successOn.clear();
            added.clear();
            removed.clear();
        }

        @Override
        public void onTaskStart(SparkListenerTaskStart e) {
            running.computeIfAbsent(e.taskInfo().executorId(), k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd e) {
            String exec = e.taskInfo().executorId();
            running.computeIfAbsent(exec, k -> new AtomicInteger()).decrementAndGet();
            String key = e.stageId() + ":" + e.taskInfo().index();
            if (e.reason() == Success$.MODULE$) {
                successOn.put(key, exec);
                succeeded.incrementAndGet();
            } else {
                failed.add(key + ":" + exec + ":" + e.reason());
            }
        }

        @Override
        public void onExecutorAdded(SparkListenerExecutorAdded e) {
            added.add(e.executorId());
        }

        @Override
        public void onExecutorRemoved(SparkListenerExecutorRemoved e) {
            removed.add(e.executorId());
        }
    }

    private static void waitFor(String what, int seconds, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static Dataset<Row> input() {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.BinaryType);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            rows.add(RowFactory.create("r" + i, "Describe picture " + i + " in detail", SparkTestSupport.png(i % 40)));
        }
        return spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, PARTITIONS), schema);
    }

    /**
     * The job under test, as JSON lines (id and the result struct: text, finish reason, token counts,
     * logprobs): a byte-for-byte comparable form. cached_tokens is left out: it counts prefix-cache hits,
     * which depend on what the executor's engine served before (a warm engine in the second run, a fresh
     * one after the kill), not on the row.
     */
    private static List<String> generate(Dataset<Row> df) {
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt")
                .setImageCol("image").setMaxTokens(8).setTemperature(0.8).setTopP(0.95).setSeed(1234)
                .setLogprobs(2).setLookAhead(1).setKvCacheBytes(16L << 20);
        return g.transform(df).drop("image", "prompt")
                .withColumn("generation", col("generation").dropFields(
                        CollectionConverters.asScala(List.of("cached_tokens")).toSeq())).toJSON().collectAsList();
    }

    @Test
    void jobSurvivesAKilledExecutorWithIdenticalOutput() throws Exception {
        Dataset<Row> df = input();
        long t0 = System.nanoTime();
        List<String> undisturbed = generate(df);
        long undisturbedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(LOG.failed).as("the undisturbed run has no failures").isEmpty();

        // which JVM is which executor
        Map<String, Long> pidOf = new HashMap<>();
        for (String s : spark.range(0, 32, 1, 32).as(Encoders.LONG()).mapPartitions(new WhoAmI(), Encoders.STRING())
                .collectAsList()) {
            pidOf.put(s.substring(0, s.indexOf(':')), Long.parseLong(s.substring(s.indexOf(':') + 1)));
        }
        assertThat(pidOf).as("executor pids").hasSize(2);
        assertThat(pidOf.values()).doesNotContain(ProcessHandle.current().pid());

        waitFor("the listener bus to drain", 30, () -> LOG.running.values().stream().allMatch(n -> n.get() == 0));
        LOG.reset();
        CompletableFuture<List<String>> job = CompletableFuture.supplyAsync(() -> generate(df));

        // some tasks done, many still to go: kill an executor that is running a task right now
        waitFor("a first finished task", 60, () -> LOG.succeeded.get() >= 1 || job.isDone());
        assertThat(job).as("job still running when the first task ended (%d ms undisturbed)", undisturbedMs)
                .isNotDone();
        String victim = null;
        long victimDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (victim == null && System.nanoTime() < victimDeadline) {
            victim = LOG.running.entrySet().stream().filter(e -> e.getValue().get() > 0 && pidOf.containsKey(e.getKey()))
                    .map(Map.Entry::getKey).findFirst().orElse(null);
            Thread.sleep(victim == null ? 5 : 0);
        }
        assertThat(victim).as("an executor with a running task").isNotNull();
        int doneAtKill = LOG.succeeded.get();
        ProcessHandle victimJvm = ProcessHandle.of(pidOf.get(victim)).orElseThrow();
        assertThat(victimJvm.destroyForcibly()).isTrue();
        assertThat(victimJvm.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();

        List<String> disturbed = job.get(120, TimeUnit.SECONDS);
        long totalMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        String killed = victim;
        waitFor("the loss of executor " + killed + " to be reported", 30, () -> LOG.removed.contains(killed));

        // the kill happened mid-job: some tasks were done, a task on the victim failed and was retried elsewhere
        assertThat(doneAtKill).isBetween(1, PARTITIONS - 1);
        assertThat(LOG.failed).as("failed attempts").isNotEmpty()
                .anySatisfy(f -> assertThat(f).contains(":" + killed + ":"));
        Set<String> retried = new HashSet<>();
        for (String f : LOG.failed) {
            String[] p = f.split(":", 4);
            retried.add(p[0] + ":" + p[1]);
        }
        for (String key : retried) {
            assertThat(LOG.successOn).as("partition %s finished after its failure", key).containsKey(key);
            assertThat(LOG.successOn.get(key)).as("retry of %s", key).isNotEqualTo(killed);
        }
        assertThat(LOG.successOn).as("every partition of the generation stage succeeded once").hasSize(PARTITIONS);

        // identical output: every row exactly once, in order, byte for byte
        assertThat(undisturbed).hasSize(ROWS);
        for (int i = 0; i < ROWS; i++) {
            assertThat(undisturbed.get(i)).startsWith("{\"id\":\"r" + i + "\",").doesNotContain("\"error\":\"")
                    .contains("\"completion_tokens\":", "\"logprobs\":[[").doesNotContain("cached_tokens");
        }
        assertThat(undisturbed.stream().map(s -> s.substring(0, s.indexOf(','))).distinct()).hasSize(ROWS);
        assertThat(disturbed).as("output after the kill").containsExactlyElementsOf(undisturbed);
        // sampling really was on: not every row produced the same text
        assertThat(undisturbed.stream().map(s -> s.substring(s.indexOf("\"text\""), s.indexOf("\"finish_reason\"")))
                .distinct().count()).isGreaterThan(10);
        System.out.printf("ExecutorKilledMidJobTest: undisturbed %d ms, both runs %d ms, killed executor %s"
                + " after %d/%d tasks, failed attempts %s, executors added %s%n", undisturbedMs, totalMs, killed,
                doneAtKill, PARTITIONS, LOG.failed, LOG.added);
    }
}
