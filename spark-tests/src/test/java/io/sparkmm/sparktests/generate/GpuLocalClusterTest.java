package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.engine.EngineKey;
import io.sparkmm.connector.engine.EngineLease;
import io.sparkmm.connector.engine.ExecutorEngines;
import io.sparkmm.connector.engine.SharedEngine;
import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.sparktests.generate.SparkTestSupport.Input;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.resource.ResourceInformation;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * GPUs through Spark's resource scheduling, without GPUs: two executor JVMs each "discover" GPUs
 * 0 and 1 (a fake discovery script), each task gets one, and the stand-in "cuda" backend of
 * {@link TestGpuBackendProvider} remembers which index each backend was made for. Shows that a
 * task's engine runs on the GPU Spark gave the task, and that each executor has one engine (and
 * one copy of the weights) per GPU.
 *
 * <p>Two cores per executor, not one: Spark hands out free GPU addresses in order, so an executor
 * running one task at a time would put every task on GPU 0 and never show the mapping.
 */
class GpuLocalClusterTest {

    private static final int MAX_TOKENS = 4;
    private static SparkSession spark;
    private static Path model;

    @BeforeAll
    static void start() throws Exception {
        model = SparkTestSupport.checkpoint("gpu-map");
        Path script = fakeGpuDiscoveryScript();
        String fastStart = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";
        spark = SparkTestSupport.session("local-cluster[2,2,1024]", "GpuLocalClusterTest")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.executorEnv.SPARK_SQL_TESTING", "1")
                .config("spark.executor.memory", "512m")
                .config("spark.executor.cores", "2")
                // standalone workers discover and hand out the GPUs; executors and tasks ask for them
                .config("spark.worker.resource.gpu.amount", "2")
                .config("spark.worker.resource.gpu.discoveryScript", script.toString())
                .config("spark.executor.resource.gpu.amount", "2")
                .config("spark.executor.resource.gpu.discoveryScript", script.toString())
                .config("spark.task.resource.gpu.amount", "1")
                .config("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector " + fastStart
                        + " -Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"))
                .getOrCreate();
        // tasks go wherever an executor is up: wait for both, or one would take every task
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < 3) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the two executors did not register in 60 s");
            }
            Thread.sleep(200);
        }
    }

    /** Prints the two addresses Spark's own getGpusResources.sh would print on a two-GPU machine. */
    private static Path fakeGpuDiscoveryScript() throws IOException {
        Path dir = Files.createDirectories(SparkTestSupport.TARGET.resolve("gpu-discovery"));
        Path script = dir.resolve("fake-gpus.sh");
        Files.writeString(script, "#!/usr/bin/env bash\necho '{\"name\": \"gpu\", \"addresses\": [\"0\", \"1\"]}'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /**
     * Runs in a task: acquires the engine as the generator does and reports
     * "pid|task GPU|resolved device|engine id|index of the backend under the engine's weights".
     * Holds the engine a moment so the executor's two task slots (GPUs 0 and 1) are both busy.
     */
    static final class AcquireProbe implements MapPartitionsFunction<Long, String> {
        private final EngineKey key;
        private final long cacheBytes;

        AcquireProbe(EngineKey key, long cacheBytes) {
            this.key = key;
            this.cacheBytes = cacheBytes;
        }

        @Override
        public Iterator<String> call(Iterator<Long> ignored) throws Exception {
            ResourceInformation gpu = TaskContext.get().resourcesJMap().get("gpu");
            String address = gpu == null ? "none" : String.join(",", gpu.addresses());
            try (EngineLease lease = ExecutorEngines.acquire(key, cacheBytes)) {
                SharedEngine e = lease.engine();
                Thread.sleep(300);
                return List.of(String.join("|", Long.toString(ProcessHandle.current().pid()), address, e.device(),
                        Long.toString(e.id()), Integer.toString(TestGpuBackendProvider.indexOf(e.model().backend()))))
                        .iterator();
            }
        }
    }

    /**
     * Runs in a task: "pid|engines|backends" of this executor JVM, engines as "device option@device=backend
     * index" sorted, backends as the indices the stand-in provider created backends for.
     */
    static final class LoadedProbe implements MapPartitionsFunction<Long, String> {
        @Override
        public Iterator<String> call(Iterator<Long> ignored) {
            String engines = ExecutorEngines.loaded().stream()
                    .map(e -> e.key().device() + "@" + e.device() + "=" + TestGpuBackendProvider.indexOf(e.model().backend()))
                    .sorted().collect(Collectors.joining(","));
            List<Integer> created = new ArrayList<>(TestGpuBackendProvider.created());
            created.sort(null);
            return List.of(ProcessHandle.current().pid() + "|" + engines + "|" + created).iterator();
        }
    }

    @Test
    void eachTaskRunsOnItsGpuAndEachExecutorHasOneEnginePerGpu() {
        // 1. the generator, device 'cuda': each task's engine on the task's GPU, results as on the CPU reference
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        List<Input> oracleInputs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            rows.add(RowFactory.create("g" + i, "Describe number " + i));
            oracleInputs.add(new Input("Describe number " + i, null));
        }
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 8), schema);
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt")
                .setMaxTokens(MAX_TOKENS).setTemperature(0).setLookAhead(2).setKvCacheBytes(8L << 20).setDevice("cuda");
        List<Row> out = g.transform(df).collectAsList();
        List<String> oracle = SparkTestSupport.engineAlone(model, oracleInputs, MAX_TOKENS, "cpu-reference");
        assertThat(out).hasSize(16);
        for (int i = 0; i < 16; i++) {
            assertThat(out.get(i).getStruct(2).getString(5)).as("row %d error", i).isNull();
            assertThat(out.get(i).getStruct(2).getString(0)).as("row %d", i).isEqualTo(oracle.get(i));
        }

        // 2. device 'auto' acquired in tasks: a task holding GPU N gets an engine on cuda:N, whose
        //    backend the provider created for index N; tasks on one GPU of one executor share the engine
        EngineKey autoKey = new MultimodalGenerator().setModelPath(model.toString()).setKvCacheBytes(8L << 20)
                .settings().engineKey();
        assertThat(autoKey.device()).isEqualTo("auto");
        List<String> acquired = spark.range(0, 8, 1, 8).as(Encoders.LONG())
                .mapPartitions(new AcquireProbe(autoKey, g.settings().processorCacheBytes()), Encoders.STRING())
                .collectAsList();
        assertThat(acquired).hasSize(8);
        Map<String, List<String>> engineIdsByPidAndDevice = new TreeMap<>();
        for (String line : acquired) {
            String[] f = line.split("\\|");
            assertThat(f[1]).as("each task holds exactly one GPU: %s", line).matches("[01]");
            assertThat(f[2]).as("the engine's device is the task's GPU: %s", line).isEqualTo("cuda:" + f[1]);
            assertThat(f[4]).as("the weights' backend was created for the task's GPU: %s", line).isEqualTo(f[1]);
            engineIdsByPidAndDevice.computeIfAbsent(f[0] + " " + f[2], k -> new ArrayList<>()).add(f[3]);
        }
        engineIdsByPidAndDevice.forEach((where, ids) ->
                assertThat(ids.stream().distinct()).as("one engine for all tasks on %s: %s", where, acquired).hasSize(1));

        // 3. what each executor JVM holds now: for each device option, one engine on each GPU, and
        //    one backend (one copy of the weights) per GPU shared by the 'cuda' and 'auto' engines
        List<String> seen = spark.range(0, 16, 1, 16).as(Encoders.LONG()).mapPartitions(new LoadedProbe(),
                Encoders.STRING()).distinct().collectAsList();
        Map<String, List<String>> byPid = seen.stream().collect(Collectors.groupingBy(s -> s.substring(0, s.indexOf('|'))));
        assertThat(byPid).as("probe results %s", seen).hasSize(2);
        assertThat(byPid.keySet()).doesNotContain(Long.toString(ProcessHandle.current().pid()));
        byPid.forEach((pid, lines) -> {
            assertThat(lines).as("one answer per JVM: %s", seen).hasSize(1);
            String[] f = lines.get(0).split("\\|");
            assertThat(f[1]).as("engines of executor %s", pid)
                    .isEqualTo("auto@cuda:0=0,auto@cuda:1=1,cuda@cuda:0=0,cuda@cuda:1=1");
            assertThat(f[2]).as("backends created in executor %s", pid).isEqualTo("[0, 1]");
        });
    }
}
