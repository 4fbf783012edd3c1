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
                .config("spark.local.dir", TARGET.resolve("spark-local").toString()).getOrCreate();
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
