package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.engine.ExecutorEngines;
import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.sparktests.generate.SparkTestSupport.Input;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two executor JVMs (local-cluster[2,1,1024]) from the Maven classpath alone: one engine per
 * executor JVM, shared by that executor's tasks, and the same results as the engine alone.
 */
class LocalClusterGeneratorTest {

    private static SparkSession spark;
    private static Path model;

    @BeforeAll
    static void start() throws Exception {
        model = SparkTestSupport.checkpoint("local-cluster");
        spark = SparkTestSupport.localCluster("LocalClusterGeneratorTest");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Runs on an executor: "pid:engine ids" of the engines loaded in that JVM. */
    static final class Probe implements MapPartitionsFunction<Long, String> {
        @Override
        public Iterator<String> call(Iterator<Long> ignored) {
            String ids = ExecutorEngines.loaded().stream().map(e -> Long.toString(e.id()))
                    .collect(Collectors.joining(","));
            return List.of(ProcessHandle.current().pid() + ":" + ids).iterator();
        }
    }

    @Test
    void oneEnginePerExecutorJvmAndCorrectResults() {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.BinaryType);
        List<Row> rows = new ArrayList<>();
        List<Input> oracleInputs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            byte[] img = SparkTestSupport.png(100 + i);
            rows.add(RowFactory.create("c" + i, "Caption number " + i, img));
            oracleInputs.add(new Input("Caption number " + i, img));
        }
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 8), schema);
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt")
                .setImageCol("image").setMaxTokens(5).setTemperature(0).setLookAhead(2).setKvCacheBytes(16L << 20);
        List<Row> out = g.transform(df).collectAsList();

        List<String> oracle = SparkTestSupport.engineAlone(model, oracleInputs, 5);
        assertThat(out).hasSize(16);
        for (int i = 0; i < 16; i++) {
            assertThat(out.get(i).getString(0)).isEqualTo("c" + i);
            assertThat(out.get(i).getStruct(3).getString(5)).isNull();
            assertThat(out.get(i).getStruct(3).getString(0)).as("row %d", i).isEqualTo(oracle.get(i));
        }
        assertThat(g.lastMetrics().rows()).isEqualTo(16);

        // a second job reuses each executor's engine; the probe then lists what each JVM holds
        g.transform(df).count();
        List<String> seen = spark.range(0, 32, 1, 32).as(Encoders.LONG()).mapPartitions(new Probe(), Encoders.STRING())
                .collectAsList();
        Map<String, TreeSet<String>> enginesByPid = seen.stream().collect(Collectors.groupingBy(
                s -> s.substring(0, s.indexOf(':')), Collectors.mapping(s -> s.substring(s.indexOf(':') + 1),
                        Collectors.toCollection(TreeSet::new))));
        assertThat(enginesByPid).as("probe results %s", seen).hasSize(2);
        assertThat(enginesByPid.keySet()).doesNotContain(Long.toString(ProcessHandle.current().pid()));
        enginesByPid.values().forEach(ids -> {
            assertThat(ids).hasSize(1);                     // the same answer from every task of the JVM
            assertThat(ids.first()).doesNotContain(",").isNotEmpty(); // exactly one engine in it
        });
    }
}
