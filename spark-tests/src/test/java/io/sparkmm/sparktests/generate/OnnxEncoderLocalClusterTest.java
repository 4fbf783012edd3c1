package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.sparktests.generate.SparkTestSupport.Input;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
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
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * encoderOnnx in two executor JVMs (local-cluster[2,1,1024]), started with Spark's long command
 * lines: each loads ONNX Runtime's natives and runs the LLaVA vision encoder from the committed
 * export, and every row gets the answer of the native tower's engine alone in the driver.
 */
class OnnxEncoderLocalClusterTest {

    private static final Path RES = Path.of("..", "engine", "src", "test", "resources").toAbsolutePath().normalize();
    private static final Path MODEL = RES.resolve("checkpoints-llava/llava-qwen2-full-f32");
    private static final Path ONNX = RES.resolve("onnx/llava-qwen2-full-f32.onnx");
    private static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        spark = SparkTestSupport.localCluster("OnnxEncoderLocalClusterTest");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void everyExecutorRunsTheOnnxEncoderWithTheNativeAnswers() {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.BinaryType);
        List<Row> rows = new ArrayList<>();
        List<Input> oracleInputs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            byte[] img = SparkTestSupport.png(200 + i);
            rows.add(RowFactory.create("o" + i, "Caption number " + i, img));
            oracleInputs.add(new Input("Caption number " + i, img));
        }
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 4), schema);
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(MODEL.toString()).setPromptCol("prompt")
                .setImageCol("image").setMaxTokens(5).setTemperature(0).setLookAhead(2).setKvCacheBytes(16L << 20)
                .setEncoderOnnx(ONNX.toString());
        List<Row> out = g.transform(df).collectAsList();
        List<String> oracle = SparkTestSupport.engineAlone(MODEL, oracleInputs, 5);
        assertThat(out).hasSize(8);
        for (int i = 0; i < 8; i++) {
            assertThat(out.get(i).getString(0)).isEqualTo("o" + i);
            assertThat(out.get(i).getStruct(3).getString(5)).as("error of row %d", i).isNull();
            assertThat(out.get(i).getStruct(3).getString(0)).as("row %d", i).isEqualTo(oracle.get(i));
        }
        // and the executors' engines did run the file: each JVM names the encoder its engine has
        List<String> encoders = spark.range(0, 16, 1, 16).as(org.apache.spark.sql.Encoders.LONG())
                .mapPartitions(new EncoderProbe(), org.apache.spark.sql.Encoders.STRING()).collectAsList();
        assertThat(encoders).isNotEmpty().allMatch(e -> e.contains("ONNX Runtime encoder " + ONNX), "an ONNX encoder");
        assertThat(encoders.stream().map(e -> e.substring(0, e.indexOf(':'))).distinct()).hasSize(2);
    }

    /** Runs on an executor: "pid:" and the description of each loaded engine's media encoder. */
    static final class EncoderProbe implements org.apache.spark.api.java.function.MapPartitionsFunction<Long, String> {
        @Override
        public java.util.Iterator<String> call(java.util.Iterator<Long> ignored) {
            return io.sparkmm.connector.engine.ExecutorEngines.loaded().stream()
                    .map(e -> ProcessHandle.current().pid() + ":" + (e.model().model()
                            instanceof io.sparkmm.engine.encoders.ExternalEncoderModel x ? x.encoder().description()
                            : "native")).iterator();
        }
    }
}
