package io.sparkmm.examples;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's main job in small: fresh Java2D images through the multimodal source, the
 * generator on the embedded default model (by its classpath location, as a user without a model
 * path gets it), Parquet, and Spark SQL scoring. One local[2] session for the class.
 */
class ShapeQuestionsJobTest {

    static final Path TARGET = Path.of("target").toAbsolutePath();
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(TARGET.resolve("spark-local"));
        spark = SparkSession.builder().master("local[2]").appName("ShapeQuestionsJobTest")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
                .config("spark.local.dir", TARGET.resolve("spark-local").toString())
                .config("spark.sql.extensions", "io.sparkmm.connector.sql.SparkmmExtensions").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void theDefaultModelAnswersFreshImagesThroughSparkAndABadFileFailsAlone() throws Exception {
        int images = 50;
        Path dir = TARGET.resolve("shape-questions-test/images");
        ShapeQuestionsJob.writeImages(dir, images, 0xC0FFEEL, true);
        String out = TARGET.resolve("shape-questions-test/answers.parquet").toString();

        ShapeQuestionsJob.Report report = ShapeQuestionsJob.run(spark, dir.toString(), out, DefaultModel.LOCATION, 4);

        int prompts = ShapeImages.PROMPTS.size();
        assertThat(report.rows()).as("one row per image and question").isEqualTo((images + 1L) * prompts);
        assertThat(report.errors()).as("only the corrupt file's questions fail").isEqualTo(prompts);
        List<Row> failed = spark.read().parquet(out).filter("error IS NOT NULL").select("path", "error").collectAsList();
        assertThat(failed).allSatisfy(r -> assertThat(r.getString(1)).contains(ShapeQuestionsJob.CORRUPT_NAME));
        for (String p : ShapeImages.PROMPTS) {
            assertThat(report.perPrompt().get(p)[1]).as(p).isEqualTo(images);
            assertThat(report.accuracy(p)).as(p).isGreaterThanOrEqualTo(ShapeQuestionsJob.MIN_ACCURACY);
        }
        assertThat(report.meetsBar()).isTrue();
    }

    /**
     * Structured output on the default model through Spark: the DataFrame API and SQL constrain the
     * shape answer to the four shapes at temperature 1, and the answers stay right.
     */
    @Test
    void constrainedAnswersThroughTheDataFrameApiAndSql() throws Exception {
        int images = 24;
        Path dir = TARGET.resolve("shape-questions-test/constrained");
        ShapeQuestionsJob.writeImages(dir, images, 0xFACEL, false);
        Dataset<Row> shapes = spark.read().format("multimodal").option("modality", "image").load(dir.toString())
                .select("path", "content").withColumn("prompt", org.apache.spark.sql.functions.lit("What shape is this?"));
        List<Row> frame = new io.sparkmm.connector.generate.MultimodalGenerator().setModelPath(DefaultModel.LOCATION)
                .setPromptCol("prompt").setImageCol("content").setChatTemplate(true).setTemperature(1).setMaxTokens(4)
                .setResponseChoices(ShapeImages.SHAPES.toArray(new String[0])).transform(shapes)
                .select("path", "generation.text", "generation.finish_reason").collectAsList();
        shapes.createOrReplaceTempView("shapes");
        spark.conf().set("spark.sparkmm.model", DefaultModel.LOCATION);
        List<Row> sql = spark.sql("SELECT path, g.text, g.finish_reason FROM (SELECT path, mm_generate(prompt, "
                + "content, map('temperature', '1', 'maxTokens', '4', 'chatTemplate', 'true', 'responseChoices', '"
                + String.join("|", ShapeImages.SHAPES) + "')) AS g FROM shapes)").collectAsList();
        for (List<Row> rows : List.of(frame, sql)) {
            assertThat(rows).hasSize(images).allSatisfy(r -> {
                assertThat(r.getString(2)).isEqualTo("stop");
                assertThat(ShapeImages.SHAPES).contains(r.getString(1));
            });
            long right = rows.stream().filter(r -> r.getString(0).matches(".*-" + r.getString(1) + "-[a-z]+\\.png$")).count();
            assertThat(right).isGreaterThanOrEqualTo(images - 1);
        }
    }

    @Test
    void scoringReadsTheAnswersFromTheFileNameAndNeedsAnExactStop() {
        StructType schema = new StructType().add("path", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("answer", DataTypes.StringType).add("finish_reason", DataTypes.StringType)
                .add("error", DataTypes.StringType);
        String file = "file:/x/shape-00007-purple-star-gray.png";
        List<Row> rows = List.of(
                RowFactory.create(file, "Describe the image.", " a purple star on a gray background", "stop", null),
                RowFactory.create(file, "What color is the shape?", "purple", "length", null),
                RowFactory.create(file, "What shape is this?", "triangle", "stop", null),
                RowFactory.create(file, "What is the background color?", "gray", "stop", null),
                RowFactory.create("file:/x/not-an-image.png", "What shape is this?", null, null, "bad image"));
        Dataset<Row> scored = ShapeQuestionsJob.score(spark.createDataFrame(rows, schema));
        List<Row> out = scored.select("file", "expected", "correct").collectAsList();
        assertThat(out.get(0).getString(0)).isEqualTo("shape-00007-purple-star-gray.png");
        assertThat(out.get(0).getString(1)).isEqualTo("a purple star on a gray background");
        assertThat(out.get(0).getBoolean(2)).isTrue();
        assertThat(out.get(1).getString(1)).isEqualTo("purple");
        assertThat(out.get(1).getBoolean(2)).as("right words but cut off by maxTokens").isFalse();
        assertThat(out.get(2).getString(1)).isEqualTo("star");
        assertThat(out.get(2).getBoolean(2)).isFalse();
        assertThat(out.get(3).getString(1)).isEqualTo("gray");
        assertThat(out.get(3).getBoolean(2)).isTrue();
        assertThat(out.get(4).isNullAt(1)).as("no answer in the name: not scored").isTrue();
    }
}
