package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
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
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.apache.spark.sql.functions.spark_partition_id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The affinity option in local[2]: rows that share media (or a prompt prefix) end up in one task,
 * next to each other, every input row still yields one output row, and each row's generation is
 * the one it gets without affinity (the oracle), since a row's seed and tokens never depend on
 * where it runs.
 */
class AffinityTest {

    private static final int IMAGES = 6;
    private static final int QUESTIONS = 4;
    private static SparkSession spark;
    private static Path model;

    @BeforeAll
    static void start() {
        // a checkpoint of its own: its engine's caches see only this class's rows
        model = SparkTestSupport.checkpoint("affinity-test");
        spark = SparkTestSupport.sqlSession("AffinityTest", model);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static MultimodalGenerator generator() {
        return new MultimodalGenerator().setModelPath(model.toString()).setMaxTokens(4).setTemperature(0)
                .setKeyCol("id");
    }

    /** id -> (text, finish_reason, completion_tokens, error): everything but cached_tokens. */
    private static Map<String, List<Object>> byId(List<Row> rows) {
        Map<String, List<Object>> m = new HashMap<>();
        for (Row r : rows) {
            Row g = r.getStruct(r.fieldIndex("generation"));
            m.put(r.getString(r.fieldIndex("id")), java.util.Arrays.asList(g.get(0), g.get(1), g.get(3), g.get(5)));
        }
        return m;
    }

    /** Every group's rows sit in one partition, at consecutive positions of the collected output. */
    private static void assertGroupsAreContiguousInOnePartition(List<Row> out, Function<Row, String> groupOf) {
        Map<String, List<Integer>> positions = new HashMap<>();
        Map<String, Integer> partitions = new HashMap<>();
        for (int i = 0; i < out.size(); i++) {
            Row r = out.get(i);
            String g = groupOf.apply(r);
            if (g == null) {
                continue;
            }
            positions.computeIfAbsent(g, k -> new ArrayList<>()).add(i);
            int pid = r.getInt(r.fieldIndex("pid"));
            assertThat(partitions.putIfAbsent(g, pid)).as("partition of group %s", g).isIn(null, pid);
        }
        positions.forEach((g, p) -> assertThat(p.get(p.size() - 1) - p.get(0)).as("positions of group %s: %s", g, p)
                .isEqualTo(p.size() - 1));
    }

    @Test
    void mediaAffinityPutsEachImagesRowsInOneTaskTogetherAndTheyShareItsBlocks() {
        StructType schema = new StructType().add("id", DataTypes.StringType, false)
                .add("prompt", DataTypes.StringType, true).add("image", DataTypes.BinaryType, true);
        List<Row> rows = new ArrayList<>();
        String[] questions = {"What shape is this?", "What color is it?", "Describe the image.", "Is it big?"};
        for (int img = 0; img < IMAGES; img++) {
            byte[] png = SparkTestSupport.png(900 + img);
            for (int q = 0; q < QUESTIONS; q++) {
                rows.add(RowFactory.create("img" + img + "-q" + q, questions[q], png));
            }
        }
        for (int t = 0; t < 4; t++) {
            rows.add(RowFactory.create("text" + t, "Say something about the number " + t + ".", null));
        }
        rows.add(RowFactory.create("bad", null, null)); // still one output row, with its error
        Collections.shuffle(rows, new Random(3));
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 4), schema);

        MultimodalGenerator none = generator().setPromptCol("prompt").setImageCol("image");
        Map<String, List<Object>> expected = byId(none.transform(df).collectAsList());
        MultimodalGenerator media = generator().setPromptCol("prompt").setImageCol("image").setAffinity("media");
        Dataset<Row> placed = media.transform(df);
        assertThat(placed.rdd().getNumPartitions()).as("the input's partition count").isEqualTo(4);
        List<Row> out = placed.withColumn("pid", spark_partition_id()).collectAsList();

        assertThat(out).hasSize(rows.size());
        assertThat(byId(out)).isEqualTo(expected);
        assertThat(expected.get("bad").get(3)).asString().contains("prompt");
        assertGroupsAreContiguousInOnePartition(out, r -> r.getString(0).startsWith("img") ? r.getString(0).split("-")[0] : null);
        // the first question of an image computes its blocks; the other three meet them in one engine and hit
        Map<String, Integer> hitters = new HashMap<>();
        for (Row r : out) {
            Row g = r.getStruct(r.fieldIndex("generation"));
            if (r.getString(0).startsWith("img") && g.getInt(4) > 0) {
                hitters.merge(r.getString(0).split("-")[0], 1, Integer::sum);
            }
        }
        assertThat(hitters).hasSize(IMAGES).allSatisfy((img, n) -> assertThat(n).as(img).isGreaterThanOrEqualTo(QUESTIONS - 1));
        assertThat(media.lastMetrics().rows()).isEqualTo(rows.size());
    }

    @Test
    void prefixAffinityGroupsTextRowsByTheStartOfTheirTemplatedPrompt() {
        StructType schema = new StructType().add("id", DataTypes.StringType, false)
                .add("doc", DataTypes.StringType, false).add("q", DataTypes.IntegerType, false);
        List<Row> rows = new ArrayList<>();
        for (int d = 0; d < 3; d++) {
            String doc = "Document " + d + ": " + "the quick brown fox jumps over the lazy dog ".repeat(2);
            for (int q = 0; q < 5; q++) {
                rows.add(RowFactory.create("d" + d + "-q" + q, doc, q));
            }
        }
        Collections.shuffle(rows, new Random(4));
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 3), schema);
        String template = "{doc} Question {q}: what comes next?";
        Map<String, List<Object>> expected = byId(generator().setPromptTemplate(template).transform(df).collectAsList());
        List<Row> out = generator().setPromptTemplate(template).setAffinity("prefix").transform(df)
                .withColumn("pid", spark_partition_id()).collectAsList();
        assertThat(out).hasSize(rows.size());
        assertThat(byId(out)).isEqualTo(expected);
        assertGroupsAreContiguousInOnePartition(out, r -> r.getString(0).split("-")[0]);
    }

    @Test
    void mmGenerateRefusesAffinityNamingTheWayToDoItInSql() {
        assertThatThrownBy(() -> spark.sql("SELECT mm_generate('hi', NULL, map('affinity', 'media'))").collectAsList())
                .hasStackTraceContaining("'affinity'").hasStackTraceContaining("DISTRIBUTE BY");
    }
}
