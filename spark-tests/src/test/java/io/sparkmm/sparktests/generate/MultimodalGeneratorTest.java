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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** MultimodalGenerator and mm_generate in local[2] against the engine alone. */
class MultimodalGeneratorTest {

    private static final int MAX_TOKENS = 6;
    private static SparkSession spark;
    private static Path model;
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("prompt", DataTypes.StringType, true)
            .add("image", DataTypes.BinaryType, true);

    @BeforeAll
    static void start() {
        model = SparkTestSupport.checkpoint("generator-test");
        spark = SparkTestSupport.sqlSession("MultimodalGeneratorTest", model);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static List<Row> rows(int n) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // every third row is text-only; prompts vary so outputs differ
            byte[] img = i % 3 == 2 ? null : SparkTestSupport.png(i);
            rows.add(RowFactory.create(String.format("r%02d", i), "What is in picture " + i + "?", img));
        }
        return rows;
    }

    private static Dataset<Row> frame(List<Row> rows, int partitions) {
        return spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, partitions), SCHEMA);
    }

    private static MultimodalGenerator generator() {
        return new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt").setImageCol("image")
                .setMaxTokens(MAX_TOKENS).setTemperature(0).setKeyCol("id");
    }

    /**
     * id -> the generation struct without cached_tokens: how much of a prompt the prefix cache
     * served depends on what ran before in the engine, not on the row.
     */
    private static Map<String, List<Object>> byId(Dataset<Row> out) {
        Map<String, List<Object>> m = new HashMap<>();
        for (Row r : out.collectAsList()) {
            m.put(r.getString(0), comparable(r.getStruct(r.fieldIndex("generation"))));
        }
        return m;
    }

    private static List<Object> comparable(Row g) {
        return java.util.Arrays.asList(g.get(0), g.get(1), g.get(2), g.get(3), g.get(5));
    }

    @Test
    void keepsOrderOneRowPerInputAndMatchesTheEngineAlone() {
        List<Row> in = rows(18);
        // 3 partitions of 6 rows, window of 4: the window slides inside each partition
        List<Row> out = generator().setLookAhead(4).transform(frame(in, 3)).collectAsList();

        assertThat(out).hasSize(in.size());
        List<Input> oracleInputs = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            assertThat(out.get(i).getString(0)).isEqualTo(in.get(i).getString(0));
            Row g = out.get(i).getStruct(3);
            assertThat(g.isNullAt(5)).as("error of %s: %s", in.get(i).getString(0), g.get(5)).isTrue();
            assertThat(g.getInt(3)).isBetween(1, MAX_TOKENS);
            oracleInputs.add(new Input(in.get(i).getString(1), (byte[]) in.get(i).get(2)));
        }
        List<String> oracle = SparkTestSupport.engineAlone(model, oracleInputs, MAX_TOKENS);
        for (int i = 0; i < in.size(); i++) {
            assertThat(out.get(i).getStruct(3).getString(0)).as("row %d", i).isEqualTo(oracle.get(i));
        }
    }

    @Test
    void sameOutputAfterRepartitionGreedyAndSeeded() {
        Dataset<Row> df = frame(rows(12), 2);
        for (MultimodalGenerator g : List.of(generator(), generator().setTemperature(0.9).setTopK(20).setSeed(7))) {
            Map<String, List<Object>> a = byId(g.transform(df));
            Map<String, List<Object>> b = byId(g.transform(df.repartition(5)));
            assertThat(b).isEqualTo(a);
        }
        // a different base seed draws different samples somewhere
        Map<String, List<Object>> s7 = byId(generator().setTemperature(1.5).setSeed(7).transform(df));
        Map<String, List<Object>> s8 = byId(generator().setTemperature(1.5).setSeed(8).transform(df));
        assertThat(s8).isNotEqualTo(s7);
    }

    @Test
    void permissiveGivesEachBadRowItsErrorAndKeepsTheOthers() throws Exception {
        Path allowed = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/allowed"));
        Path outside = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/outside"));
        Files.write(allowed.resolve("good.png"), SparkTestSupport.png(1));
        Files.write(allowed.resolve("garbage.png"), "not an image at all".getBytes());
        Files.write(outside.resolve("good.png"), SparkTestSupport.png(2));
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("path", DataTypes.StringType);
        List<Row> rows = List.of(
                RowFactory.create("ok", "Describe it.", allowed.resolve("good.png").toString()),
                RowFactory.create("garbage", "Describe it.", allowed.resolve("garbage.png").toString()),
                RowFactory.create("missing", "Describe it.", allowed.resolve("nope.png").toString()),
                RowFactory.create("nullprompt", null, allowed.resolve("good.png").toString()),
                RowFactory.create("escape", "Describe it.", allowed.resolve("../outside/good.png").toString()),
                RowFactory.create("outside", "Describe it.", outside.resolve("good.png").toString()),
                RowFactory.create("nomedia", "Just text.", null));
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt")
                .setImageCol("path").setKeyCol("id").setMaxTokens(4).setTemperature(0)
                .setAllowedRoots(allowed.toString());
        List<Row> out = g.transform(df).collectAsList();

        assertThat(out).extracting(r -> r.getString(0))
                .containsExactly("ok", "garbage", "missing", "nullprompt", "escape", "outside", "nomedia");
        Map<String, String> errors = new HashMap<>();
        for (Row r : out) {
            Row gen = r.getStruct(3);
            errors.put(r.getString(0), gen.getString(5));
            if (!gen.isNullAt(5)) {
                assertThat(gen.isNullAt(0)).as("text of failed row %s", r.getString(0)).isTrue();
            }
        }
        assertThat(errors.get("ok")).isNull();
        assertThat(errors.get("nomedia")).isNull();
        assertThat(errors.get("garbage")).contains("garbage.png");
        assertThat(errors.get("missing")).contains("nope.png").contains("no such file");
        assertThat(errors.get("nullprompt")).contains("nullprompt").contains("prompt is null");
        assertThat(errors.get("escape")).contains("outside allowedRoots");
        assertThat(errors.get("outside")).contains("outside allowedRoots");
        assertThat(g.lastMetrics().rows()).isEqualTo(7);
        assertThat(g.lastMetrics().errors()).isEqualTo(5);
    }

    @Test
    void badImageBytesAreARowError() {
        List<Row> rows = new ArrayList<>(rows(3));
        rows.add(1, RowFactory.create("bad", "Describe it.", "\u0089PNG but not really".getBytes()));
        List<Row> out = generator().transform(frame(rows, 2)).collectAsList();
        assertThat(out).extracting(r -> r.getString(0)).containsExactly("r00", "bad", "r01", "r02");
        assertThat(out.get(1).getStruct(3).getString(5)).contains("bad");
        assertThat(out.get(0).getStruct(3).isNullAt(5)).isTrue();
        assertThat(out.get(2).getStruct(3).isNullAt(5)).isTrue();
    }

    @Test
    void mmProcessorKwargsReachTheModelsProcessorForEveryRow() {
        Dataset<Row> df = frame(rows(3), 2);
        // the tiny LLaVA's processor takes no settings: every row, the text-only one too, says so by key
        List<Row> bad = generator().setMmProcessorKwargs("{\"max_pixels\": 200704}").transform(df).collectAsList();
        assertThat(bad).hasSize(3).allSatisfy(r -> assertThat(r.getStruct(3).getString(5))
                .contains("\"max_pixels\"").contains("it takes none"));
        // {} is no settings: the same rows as without the option
        assertThat(byId(generator().setMmProcessorKwargs("{}").transform(df))).isEqualTo(byId(generator().transform(df)));
        Row viaSql = spark.sql("SELECT mm_generate('hi', NULL, map('mmProcessorKwargs', '{\"min_pixels\": 1}')) AS g")
                .first().getStruct(0);
        assertThat(viaSql.getString(5)).contains("\"min_pixels\"");
    }

    @Test
    void failFastFailsTheTaskNamingTheRow() {
        List<Row> rows = new ArrayList<>(rows(4));
        rows.add(2, RowFactory.create("the-bad-row", null, null));
        MultimodalGenerator g = generator().setMode("FAILFAST");
        assertThatThrownBy(() -> g.transform(frame(rows, 1)).collectAsList())
                .hasStackTraceContaining("row the-bad-row failed (mode FAILFAST)");
    }

    @Test
    void wrongColumnTypeFailsAtAnalysis() {
        Dataset<Row> df = spark.sql("SELECT 'x' AS prompt, 42 AS image");
        assertThatThrownBy(() -> generator().setKeyCol(null).transform(df))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'image'").hasMessageContaining("imageCol").hasMessageContaining("int")
                .hasMessageContaining("expected binary");
        assertThatThrownBy(() -> generator().setPromptCol("nope").transform(frame(rows(1), 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'nope'");
        assertThatThrownBy(() -> generator().set("maxTokens", "lots"))
                .hasMessageContaining("maxTokens").hasMessageContaining("lots");
    }

    @Test
    void promptTemplateFillsSlots() {
        MultimodalGenerator g = generator().setPromptCol(null).setPromptTemplate("What is in picture {id}?");
        List<Row> out = g.transform(frame(rows(3), 1)).collectAsList();
        assertThat(out).allSatisfy(r -> assertThat(r.getStruct(3).isNullAt(5)).isTrue());
    }

    @Test
    void sqlFunctionGivesTheSameRows() {
        Dataset<Row> df = frame(rows(6), 2);
        Map<String, List<Object>> viaFrame = byId(generator().transform(df));
        df.createOrReplaceTempView("pictures");
        List<Row> viaSql = spark.sql("SELECT id, mm_generate(prompt, image, map('maxTokens', '" + MAX_TOKENS
                + "', 'temperature', '0')) AS generation FROM pictures").collectAsList();
        assertThat(viaSql).hasSize(6);
        for (Row r : viaSql) {
            assertThat(comparable(r.getStruct(1))).as(r.getString(0)).isEqualTo(viaFrame.get(r.getString(0)));
        }
        Row nullPrompt = spark.sql("SELECT mm_generate(CAST(NULL AS STRING), NULL) AS g").first().getStruct(0);
        assertThat(nullPrompt.getString(5)).contains("prompt is null");
        assertThatThrownBy(() -> spark.sql("SELECT mm_generate('hi', 42)").collectAsList())
                .hasMessageContaining("media must be binary");
    }
}
