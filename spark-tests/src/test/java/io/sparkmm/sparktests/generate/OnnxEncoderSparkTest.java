package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import org.apache.spark.api.java.JavaSparkContext;
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
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * MultimodalGenerator with {@code encoderOnnx} in local[2]: a LLaVA checkpoint's vision tower and
 * projector from the committed ONNX export (engine's src/test/python/onnx_encoder_export.py) gives
 * every row the native tower's answer; a file ONNX Runtime cannot load fails the job naming it.
 */
class OnnxEncoderSparkTest {

    private static final Path RES = Path.of("..", "engine", "src", "test", "resources").toAbsolutePath().normalize();
    private static final Path MODEL = RES.resolve("checkpoints-llava/llava-qwen2-full-f32");
    private static final Path ONNX = RES.resolve("onnx/llava-qwen2-full-f32.onnx");
    private static final StructType SCHEMA = new StructType().add("id", DataTypes.StringType)
            .add("prompt", DataTypes.StringType).add("image", DataTypes.BinaryType);

    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("local[2]", "OnnxEncoderSparkTest")
                .config("spark.sql.extensions", "io.sparkmm.connector.sql.SparkmmExtensions").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static List<Row> rows() throws IOException {
        List<Row> in = new ArrayList<>();
        String[] files = {"landscape-48x36.png", "portrait-21x40.png", "square-32x32.png"};
        for (int i = 0; i < 6; i++) {
            byte[] png = Files.readAllBytes(RES.resolve("hf/images").resolve(files[i % files.length]));
            in.add(RowFactory.create("r" + i, "what is " + (i < 3 ? "this?" : "that?"), png));
        }
        return in;
    }

    private static List<Row> generate(List<Row> rows, String onnx) {
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(MODEL.toString()).setPromptCol("prompt")
                .setKeyCol("id").setImageCol("image").setMaxTokens(6).setTemperature(0).setIgnoreEos(true)
                .setDevice("cpu").setEncoderOnnx(onnx);
        return g.transform(spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 2), SCHEMA))
                .collectAsList();
    }

    @Test
    void everyRowGetsTheNativeTowersAnswer() throws IOException {
        List<Row> in = rows();
        List<Row> nat = generate(in, null);
        List<Row> onnx = generate(in, ONNX.toString());
        assertThat(onnx).hasSameSizeAs(in);
        for (int i = 0; i < in.size(); i++) {
            Row a = nat.get(i).getStruct(nat.get(i).fieldIndex("generation"));
            Row b = onnx.get(i).getStruct(onnx.get(i).fieldIndex("generation"));
            assertThat(onnx.get(i).getString(0)).isEqualTo(in.get(i).getString(0));
            assertThat(a.isNullAt(5)).as("native error of row %d: %s", i, a.get(5)).isTrue();
            assertThat(b.isNullAt(5)).as("error of row %d: %s", i, b.get(5)).isTrue();
            assertThat(b.getInt(3)).isEqualTo(6);
            assertThat(b.getString(0)).as("text of row %d", i).isEqualTo(a.getString(0));
        }
    }

    @Test
    void mmGenerateTakesTheOptionToo() throws IOException {
        List<Row> in = rows();
        List<Row> nat = generate(in, null);
        spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(in, 2), SCHEMA)
                .createOrReplaceTempView("onnx_pictures");
        List<Row> sql = spark.sql("SELECT id, mm_generate(prompt, image, map('modelPath', '" + MODEL + "', 'encoderOnnx', '"
                + ONNX + "', 'maxTokens', '6', 'temperature', '0', 'ignoreEos', 'true', 'device', 'cpu')) AS g"
                + " FROM onnx_pictures ORDER BY id").collectAsList();
        assertThat(sql).hasSameSizeAs(in);
        for (int i = 0; i < in.size(); i++) {
            Row g = sql.get(i).getStruct(1);
            Row a = nat.get(i).getStruct(nat.get(i).fieldIndex("generation"));
            assertThat(sql.get(i).getString(0)).isEqualTo(nat.get(i).getString(0));
            assertThat(g.isNullAt(g.fieldIndex("error"))).as("error of row %d: %s", i, g.get(g.fieldIndex("error"))).isTrue();
            assertThat(g.getString(g.fieldIndex("text"))).as("text of row %d", i).isEqualTo(a.getString(0));
        }
    }

    @Test
    void aFileTheRuntimeCannotLoadFailsTheJobNamingIt() {
        Path bad = RES.resolve("onnx/unsupported-op.onnx");
        assertThatThrownBy(() -> generate(rows(), bad.toString()))
                .satisfies(e -> assertThat(stackMessages(e)).contains(bad.toString())
                        .contains("could not be loaded by ONNX Runtime"));
    }

    private static String stackMessages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }
}
