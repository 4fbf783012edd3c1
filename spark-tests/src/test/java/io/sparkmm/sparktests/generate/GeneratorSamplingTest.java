package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.GenerationSchema;
import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.connector.generate.RequestFactory;
import io.sparkmm.connector.generate.RowInput;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.sampling.TokenLogprob;
import io.sparkmm.sparktests.generate.SparkTestSupport.Input;
import org.apache.spark.sql.Dataset;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Every sampling option the engine has, through the DataFrame API and mm_generate, against the
 * engine alone run with the same SamplingParams: each option must change the rows the way the
 * engine says (a no-op wiring would match the baseline, which every test shows differs).
 */
class GeneratorSamplingTest {

    private static final int MAX_TOKENS = 16;
    private static final int ROWS = 8;
    private static SparkSession spark;
    private static Path model;
    private static Dataset<Row> df;
    private static List<Input> inputs;
    /** Greedy, no other option: what every option is compared against. */
    private static List<EngineResult> baseline;

    @BeforeAll
    static void start() {
        model = SparkTestSupport.checkpoint("sampling-test");
        spark = SparkTestSupport.sqlSession("GeneratorSamplingTest", model);
        StructType schema = new StructType().add("id", DataTypes.StringType, false)
                .add("prompt", DataTypes.StringType, true).add("image", DataTypes.BinaryType, true);
        List<Row> rows = new ArrayList<>();
        inputs = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            byte[] img = i % 4 == 0 ? SparkTestSupport.png(i) : null;
            // the last prompt's greedy text ends on EOS at 14 tokens (so ignoreEos is observable)
            String prompt = i == ROWS - 1 ? "x13" : "Tell me about thing " + i + ".";
            rows.add(RowFactory.create("r" + i, prompt, img));
            inputs.add(new Input(prompt, img));
        }
        df = spark.createDataFrame(rows, schema).repartition(2);
        df.createOrReplaceTempView("things");
        baseline = oracle(0L, b -> b);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** The engine alone, greedy unless {@code options} say otherwise, each row with the connector's seed for it. */
    private static List<EngineResult> oracle(long seed, UnaryOperator<SamplingParams.Builder> options) {
        List<SamplingParams> perRow = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            long rowSeed = RequestFactory.rowSeed(seed, new RowInput("r" + i, inputs.get(i).prompt(), inputs.get(i).image(),
                    null, null));
            perRow.add(options.apply(SamplingParams.builder().temperature(0).maxTokens(MAX_TOKENS).seed(rowSeed)).build());
        }
        return SparkTestSupport.engineAlone(model, inputs, perRow, EngineOptions.defaultDevice());
    }

    private static List<EngineResult> oracle(UnaryOperator<SamplingParams.Builder> options) {
        return oracle(0L, options);
    }

    /** The generation structs, in row order, through the generator with these string-form options. */
    private static List<Row> viaFrame(Map<String, String> options) {
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt")
                .setImageCol("image").setKeyCol("id").setMaxTokens(MAX_TOKENS).setTemperature(0);
        options.forEach(g::set);
        return byId(g.transform(df).select("id", "generation").collectAsList());
    }

    /** The same through mm_generate with the options as its map. */
    private static List<Row> viaSql(Map<String, String> options) {
        Map<String, String> all = new LinkedHashMap<>(Map.of("maxTokens", String.valueOf(MAX_TOKENS), "temperature", "0"));
        all.putAll(options); // map() refuses duplicate keys
        List<String> kvs = new ArrayList<>();
        all.forEach((k, v) -> kvs.add("'" + k + "', '" + v + "'"));
        String map = "map(" + String.join(", ", kvs);
        return byId(spark.sql("SELECT id, mm_generate(prompt, image, " + map + ")) AS g FROM things").collectAsList());
    }

    private static List<Row> byId(List<Row> rows) {
        Row[] out = new Row[ROWS];
        for (Row r : rows) {
            out[Integer.parseInt(r.getString(0).substring(1))] = r.getStruct(1);
        }
        return List.of(out);
    }

    /** Both Spark paths give exactly the engine's text, finish reason and token count on every row. */
    private static void assertBothPathsMatch(Map<String, String> options, List<EngineResult> oracle) {
        for (List<Row> got : List.of(viaFrame(options), viaSql(options))) {
            for (int i = 0; i < ROWS; i++) {
                Row g = got.get(i);
                EngineResult e = oracle.get(i);
                assertThat(g.isNullAt(5)).as("error of row %d with %s: %s", i, options, g.get(5)).isTrue();
                assertThat(List.of(g.getString(0), g.getString(1), g.getInt(3)))
                        .as("row %d with %s", i, options)
                        .isEqualTo(List.of(e.text(), e.finishReason().wireName(), e.completionTokens()));
            }
        }
    }

    private static List<String> texts(List<EngineResult> rs) {
        return rs.stream().map(EngineResult::text).toList();
    }

    @Test
    void stopTokenIdsCutAndMinTokensHoldsTheStopBack() {
        int row = longestBaselineRow();
        assertThat(baseline.get(row).completionTokens()).as("baseline row %d", row).isGreaterThanOrEqualTo(4);
        int stopId = baseline.get(row).tokenIds()[1];
        List<EngineResult> cut = oracle(b -> b.stopTokenIds(List.of(stopId)));
        assertThat(cut.get(row).completionTokens()).isLessThanOrEqualTo(2);
        assertThat(cut.get(row).finishReason().wireName()).isEqualTo("stop");
        assertBothPathsMatch(Map.of("stopTokenIds", String.valueOf(stopId)), cut);

        List<EngineResult> held = oracle(b -> b.stopTokenIds(List.of(stopId)).minTokens(4));
        assertThat(held.get(row).completionTokens()).isGreaterThanOrEqualTo(4);
        assertBothPathsMatch(Map.of("stopTokenIds", String.valueOf(stopId), "minTokens", "4"), held);
    }

    @Test
    void ignoreEosRunsEveryRowToMaxTokens() {
        assertThat(baseline).as("some baseline row ends on EOS, or ignoreEos is not observable")
                .anySatisfy(r -> assertThat(r.completionTokens()).isLessThan(MAX_TOKENS));
        List<EngineResult> all = oracle(b -> b.ignoreEos(true));
        assertThat(all).allSatisfy(r -> assertThat(r.completionTokens()).isEqualTo(MAX_TOKENS));
        assertBothPathsMatch(Map.of("ignoreEos", "true"), all);
    }

    /**
     * Sampled (temperature 1, the connector's per-row seeds reproduced in the oracle): penalties
     * shift probabilities, so the same draws land on other tokens; greedy could hide a small shift.
     */
    @Test
    void penaltiesChangeTokensExactlyLikeTheEngine() {
        Map<String, UnaryOperator<SamplingParams.Builder>> cases = new LinkedHashMap<>();
        cases.put("repetitionPenalty=50", b -> b.repetitionPenalty(50));
        cases.put("presencePenalty=2", b -> b.presencePenalty(2));
        cases.put("frequencyPenalty=-2", b -> b.frequencyPenalty(-2));
        List<String> plain = texts(oracle(5L, b -> b.temperature(1).ignoreEos(true)));
        for (Map.Entry<String, UnaryOperator<SamplingParams.Builder>> c : cases.entrySet()) {
            List<EngineResult> expected = oracle(5L, b -> c.getValue().apply(b.temperature(1).ignoreEos(true)));
            assertThat(texts(expected)).as(c.getKey()).isNotEqualTo(plain);
            String[] kv = c.getKey().split("=");
            assertBothPathsMatch(Map.of(kv[0], kv[1], "temperature", "1", "seed", "5", "ignoreEos", "true"), expected);
        }
    }

    @Test
    void minPOfOneLeavesOnlyTheMostLikelyTokenWhileSampling() {
        Map<String, String> hot = Map.of("temperature", "1.5", "seed", "3");
        List<String> sampled = viaFrame(hot).stream().map(r -> r.getString(0)).toList();
        assertThat(sampled).as("sampling at 1.5 differs from greedy").isNotEqualTo(texts(baseline));
        Map<String, String> cutToTop = new LinkedHashMap<>(hot);
        cutToTop.put("minP", "1.0");
        // min_p = 1 keeps only tokens as likely as the top one: the greedy rows, whatever the seed
        assertBothPathsMatch(cutToTop, baseline);
    }

    @Test
    void logprobsAreAFieldOnlyWhenAsked() {
        assertThat(spark.sql("SELECT mm_generate('hi', NULL) AS g").schema().apply("g").dataType())
                .isEqualTo(GenerationSchema.RESULT);
        List<EngineResult> expected = oracle(b -> b.logprobs(3));
        assertBothPathsMatch(Map.of("logprobs", "3"), expected);
        for (List<Row> got : List.of(viaFrame(Map.of("logprobs", "3")), viaSql(Map.of("logprobs", "3")))) {
            assertThat(got.get(0).schema()).isEqualTo(GenerationSchema.RESULT_WITH_LOGPROBS);
            for (int i = 0; i < ROWS; i++) {
                List<List<Row>> perToken = got.get(i).<Object>getList(6).stream().map(GeneratorSamplingTest::rows).toList();
                List<List<TokenLogprob>> want = expected.get(i).logprobs();
                assertThat(perToken).as("row %d", i).hasSize(expected.get(i).completionTokens()).hasSize(want.size());
                for (int t = 0; t < want.size(); t++) {
                    assertThat(perToken.get(t)).hasSize(3);
                    // greedy: the first candidate is the token generated
                    assertThat(perToken.get(t).get(0).getInt(0)).isEqualTo(expected.get(i).tokenIds()[t]);
                    for (int k = 0; k < 3; k++) {
                        assertThat(perToken.get(t).get(k).getInt(0)).isEqualTo(want.get(t).get(k).tokenId());
                        assertThat(perToken.get(t).get(k).getDouble(1))
                                .isCloseTo(want.get(t).get(k).logprob(), within(1e-4));
                    }
                }
            }
        }
    }

    /** Row.getList converts only the outer array: inner arrays stay Scala sequences. */
    @SuppressWarnings("unchecked")
    private static List<Row> rows(Object inner) {
        return CollectionConverters.asJava((scala.collection.Seq<Row>) inner);
    }

    private static int longestBaselineRow() {
        int best = 0;
        for (int i = 1; i < ROWS; i++) {
            if (baseline.get(i).completionTokens() > baseline.get(best).completionTokens()) {
                best = i;
            }
        }
        return best;
    }
}
