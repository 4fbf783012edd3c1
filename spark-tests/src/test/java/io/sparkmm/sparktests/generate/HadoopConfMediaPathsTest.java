package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import org.apache.hadoop.conf.Configuration;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Media paths are read with the job's Hadoop configuration ({@code spark.hadoop.*}), by the
 * generator's path columns and by the {@code multimodal} source alike. The scheme
 * {@code sparkmmtest} exists only through {@code spark.hadoop.fs.sparkmmtest.impl} and needs
 * {@code spark.hadoop.fs.sparkmmtest.root}: code that builds a fresh {@code new Configuration()}
 * cannot read these paths at all (checked in {@link #aFreshConfigurationCannotReadTheSchemeAndAMissingSettingIsNamed}).
 * {@code sparkmmtest2} has the implementation but no root, for the error message.
 */
class HadoopConfMediaPathsTest {

    private static final int MAX_TOKENS = 5;
    private static SparkSession spark;
    private static Path model;
    private static Path root;
    private static final int IMAGES = 4;

    @BeforeAll
    static void start() throws IOException {
        model = SparkTestSupport.checkpoint("hadoop-conf-test");
        root = SparkTestSupport.TARGET.resolve("hadoop-conf-test-root");
        Path media = Files.createDirectories(root.resolve("media"));
        for (int i = 0; i < IMAGES; i++) {
            Files.write(media.resolve("img" + i + ".png"), SparkTestSupport.png(i));
        }
        spark = SparkTestSupport.session("local[2]", "HadoopConfMediaPathsTest")
                .config("spark.sql.extensions", "io.sparkmm.connector.sql.SparkmmExtensions")
                .config("spark.sparkmm.model", model.toString())
                .config("spark.hadoop.fs.sparkmmtest.impl", RootedTestFileSystem.class.getName())
                .config("spark.hadoop.fs.sparkmmtest.root", root.toString())
                .config("spark.hadoop.fs.sparkmmtest2.impl", RootedTestFileSystem.class.getName())
                // Hadoop's FileSystem cache is keyed by scheme and user, not configuration: a cached
                // instance would let a fresh configuration read these paths too and hide the bug
                .config("spark.hadoop.fs.sparkmmtest.impl.disable.cache", "true")
                .config("spark.hadoop.fs.sparkmmtest2.impl.disable.cache", "true")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static MultimodalGenerator generator(String imageCol) {
        return new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt").setImageCol(imageCol)
                .setKeyCol("id").setMaxTokens(MAX_TOKENS).setTemperature(0);
    }

    private static Dataset<Row> frame(List<Row> rows, StructType schema) {
        return spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 2), schema);
    }

    /** id -> (text, finish_reason, prompt_tokens, completion_tokens, error); cached_tokens depends on what ran before. */
    private static Map<String, List<Object>> byId(Dataset<Row> out) {
        Map<String, List<Object>> m = new HashMap<>();
        for (Row r : out.collectAsList()) {
            Row g = r.getStruct(r.fieldIndex("generation"));
            m.put(r.getString(0), Arrays.asList(g.get(0), g.get(1), g.get(2), g.get(3), g.get(5)));
        }
        return m;
    }

    @Test
    void generatorReadsImagePathsThroughTheSessionsFileSystemSettings() {
        StructType byPath = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.StringType);
        StructType byBytes = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.BinaryType);
        List<Row> paths = new ArrayList<>();
        List<Row> bytes = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            String prompt = "What is in picture " + i + "?";
            paths.add(RowFactory.create("r" + i, prompt, "sparkmmtest:///media/img" + i + ".png"));
            bytes.add(RowFactory.create("r" + i, prompt, SparkTestSupport.png(i)));
        }
        Map<String, List<Object>> viaPath = byId(generator("image").transform(frame(paths, byPath)));
        Map<String, List<Object>> viaBytes = byId(generator("image").transform(frame(bytes, byBytes)));

        assertThat(viaPath).hasSize(IMAGES);
        for (int i = 0; i < IMAGES; i++) {
            List<Object> g = viaPath.get("r" + i);
            assertThat(g.get(4)).as("error of r%d", i).isNull();
            assertThat((int) g.get(3)).isBetween(1, MAX_TOKENS);
        }
        // the same pixels reached the model: token counts (image tokens included) and text agree
        assertThat(viaPath).isEqualTo(viaBytes);
    }

    @Test
    void mmGenerateReadsImagePathsThroughTheApplicationsFileSystemSettings() {
        StructType byPath = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.StringType);
        List<Row> paths = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            paths.add(RowFactory.create("r" + i, "What is in picture " + i + "?", "sparkmmtest:///media/img" + i + ".png"));
        }
        Dataset<Row> df = frame(paths, byPath);
        Map<String, List<Object>> viaFrame = byId(generator("image").transform(df));
        df.createOrReplaceTempView("hadoop_conf_paths");
        Map<String, List<Object>> viaSql = byId(spark.sql("SELECT id, mm_generate(prompt, image, map('maxTokens', '"
                + MAX_TOKENS + "', 'temperature', '0')) AS generation FROM hadoop_conf_paths"));

        assertThat(viaSql).hasSize(IMAGES);
        viaSql.forEach((id, g) -> assertThat(g.get(4)).as("error of %s", id).isNull());
        assertThat(viaSql).isEqualTo(viaFrame);
    }

    @Test
    void multimodalSourceListsAndReadsThroughTheSessionsFileSystemSettings() throws IOException {
        List<Row> rows = spark.read().format("multimodal").load("sparkmmtest:///media")
                .select("path", "modality", "content", "read_error").orderBy("path").collectAsList();

        assertThat(rows).hasSize(IMAGES);
        for (int i = 0; i < IMAGES; i++) {
            Row r = rows.get(i);
            assertThat(r.getString(0)).isEqualTo("sparkmmtest:/media/img" + i + ".png");
            assertThat(r.getString(1)).isEqualTo("image");
            assertThat(r.isNullAt(3)).as("read_error %s", r.get(3)).isTrue();
            assertThat((byte[]) r.get(2)).isEqualTo(Files.readAllBytes(root.resolve("media/img" + i + ".png")));
        }
    }

    @Test
    void aFreshConfigurationCannotReadTheSchemeAndAMissingSettingIsNamed() {
        // why the tests above prove something: the old code's fresh configuration does not know the scheme
        assertThatThrownBy(() -> new org.apache.hadoop.fs.Path("sparkmmtest:///media/img0.png")
                .getFileSystem(new Configuration()))
                .hasMessageContaining("No FileSystem for scheme \"sparkmmtest\"");

        // a scheme configured without its root: the row's error names the path and, through the file system's own message, the missing setting
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.StringType);
        List<Row> in = List.of(RowFactory.create("bad", "What is this?", "sparkmmtest2:///media/img0.png"));
        Row g = generator("image").transform(frame(in, schema)).collectAsList().get(0).getStruct(3);
        assertThat(g.isNullAt(0)).isTrue();
        assertThat(g.getString(5)).contains("sparkmmtest2:///media/img0.png").contains("cannot read through Hadoop FileSystem")
                .contains("fs.sparkmmtest2.root is not set");

        // the source fails on load(), naming the setting too
        assertThatThrownBy(() -> spark.read().format("multimodal").load("sparkmmtest2:///media"))
                .hasStackTraceContaining("fs.sparkmmtest2.root is not set");
    }
}
