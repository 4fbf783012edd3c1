package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.engine.ExecutorEngines;
import io.sparkmm.connector.engine.SharedEngine;
import io.sparkmm.connector.sql.MmGenerateExec;
import io.sparkmm.sparktests.generate.SparkTestSupport.Input;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** mm_generate planned into the batched MmGenerateExec: where it applies, what it returns, where it does not. */
class MmGenerateSqlTest {

    private static final int MAX_TOKENS = 5;
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("prompt", DataTypes.StringType, true)
            .add("image", DataTypes.BinaryType, true);
    private static SparkSession spark;
    private static Path model;

    @BeforeAll
    static void start() {
        model = SparkTestSupport.checkpoint("mm-generate-sql");
        spark = SparkTestSupport.sqlSession("MmGenerateSqlTest", model);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            rows.add(RowFactory.create(String.format("r%02d", i), "What is in picture " + i + "?",
                    i % 4 == 3 ? null : SparkTestSupport.png(100 + i)));
        }
        rows.add(RowFactory.create("no-prompt", null, SparkTestSupport.png(7)));
        // one partition: whatever runs together in the engine comes from a single task's window
        spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 1), SCHEMA)
                .createOrReplaceTempView("pictures");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Options of a greedy call; maxSeqs picks an engine of the test's own (part of the engine key). */
    private static String options(int maxSeqs) {
        return "map('maxTokens', '" + MAX_TOKENS + "', 'temperature', '0', 'maxSeqs', '" + maxSeqs + "')";
    }

    @Test
    void oneTaskRunsItsRowsTogetherInOrderAndMatchesTheEngineAlone() {
        Dataset<Row> df = spark.sql("SELECT id, prompt, image, mm_generate(prompt, image, " + options(41)
                + ") AS g FROM pictures");
        List<Row> out = df.collectAsList();

        List<MmGenerateExec> ops = operators(df);
        assertThat(ops).hasSize(1);
        assertThat(out).extracting(r -> r.getString(0)).containsExactly(
                "r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r10", "r11", "no-prompt");
        List<Input> oracleInputs = new ArrayList<>();
        for (Row r : out.subList(0, 12)) {
            assertThat(r.getStruct(3).isNullAt(5)).as("error of %s: %s", r.getString(0), r.getStruct(3).get(5)).isTrue();
            oracleInputs.add(new Input(r.getString(1), (byte[]) r.get(2)));
        }
        List<String> oracle = SparkTestSupport.engineAlone(model, oracleInputs, MAX_TOKENS);
        long generated = 0;
        for (int i = 0; i < 12; i++) {
            assertThat(out.get(i).getStruct(3).getString(0)).as("row %d", i).isEqualTo(oracle.get(i));
            generated += out.get(i).getStruct(3).getInt(3);
        }
        assertThat(out.get(12).getStruct(3).getString(5)).contains("prompt is null");

        // row at a time, one task would never have more than one sequence in the engine
        SharedEngine engine = ExecutorEngines.loaded().stream()
                .filter(e -> e.key().maxSeqs() == 41).findFirst().orElseThrow();
        assertThat(engine.engine().metrics().maxRunningSeqs()).isGreaterThan(1);
        // the accumulators of the DataFrame path count SQL rows too
        assertThat(ops.get(0).lastMetrics().rows()).isEqualTo(13);
        assertThat(ops.get(0).lastMetrics().errors()).isEqualTo(1);
        assertThat(ops.get(0).lastMetrics().generatedTokens()).isEqualTo(generated);
    }

    @Test
    void aResultReadTwiceOrFilteredOnIsComputedOnce() {
        String call = "mm_generate(prompt, image, " + options(42) + ")";
        Dataset<Row> twice = spark.sql("SELECT id, " + call + ".text AS text, " + call + ".finish_reason AS reason "
                + "FROM pictures");
        assertThat(operators(twice)).hasSize(1);
        // a subquery's alias read by the outer query's filter: not pushed down into a second call
        Dataset<Row> filtered = spark.sql("SELECT id, g.text FROM (SELECT id, " + call + " AS g FROM pictures) "
                + "WHERE g.error IS NULL");
        assertThat(filtered.collectAsList()).hasSize(12);
        assertThat(operators(filtered)).hasSize(1);
        Dataset<Row> where = spark.sql("SELECT id FROM pictures WHERE " + call + ".error IS NOT NULL");
        assertThat(where.collectAsList()).extracting(r -> r.getString(0)).containsExactly("no-prompt");
        assertThat(operators(where)).hasSize(1);
        // two different calls in one SELECT: two operators, one above the other
        Dataset<Row> two = spark.sql("SELECT id, " + call + ".text AS a, mm_generate(prompt, NULL, " + options(42)
                + ").text AS b FROM pictures WHERE prompt IS NOT NULL");
        List<Row> rows = two.collectAsList();
        assertThat(operators(two)).hasSize(2);
        assertThat(rows).hasSize(12).allSatisfy(r -> assertThat(r.getString(1)).isNotNull());
    }

    @Test
    void anAggregateOverTheResultsPlansAdaptivelyAndCountsEveryRow() {
        // a shuffle after the operator: adaptive execution canonicalizes and copies the plan nodes
        List<Row> byReason = spark.sql("SELECT g.finish_reason AS reason, count(*) AS n FROM (SELECT mm_generate(prompt, "
                + "image, " + options(44) + ") AS g FROM pictures) GROUP BY g.finish_reason ORDER BY reason NULLS FIRST")
                .collectAsList();
        assertThat(byReason.stream().mapToLong(r -> r.getLong(1)).sum()).isEqualTo(13);
        assertThat(byReason.get(0).isNullAt(0)).as("the row without a prompt has no finish reason").isTrue();
        assertThat(byReason.get(0).getLong(1)).isEqualTo(1);
    }

    @Test
    void callsInConditionalBranchesOrWithPerRowOptionsStayRowAtATime() {
        String call = "mm_generate(prompt, image, " + options(43) + ")";
        Dataset<Row> branch = spark.sql("SELECT id, CASE WHEN id = 'r01' THEN " + call + ".text END AS t FROM pictures");
        List<Row> rows = branch.collectAsList();
        assertThat(operators(branch)).isEmpty();
        assertThat(rows).filteredOn(r -> r.getString(1) != null).extracting(r -> r.getString(0)).containsExactly("r01");
        String batched = spark.sql("SELECT " + call + ".text FROM pictures WHERE id = 'r01'").first().getString(0);
        assertThat(rows.get(1).getString(1)).isEqualTo(batched);

        Dataset<Row> perRow = spark.sql("SELECT id, mm_generate(prompt, image, map('maxTokens', "
                + "CAST(length(id) - 1 AS STRING), 'temperature', '0')) AS g FROM pictures WHERE id LIKE 'r0%'");
        List<Row> perRowRows = perRow.collectAsList();
        assertThat(operators(perRow)).isEmpty();
        assertThat(perRowRows).hasSize(10).allSatisfy(r -> assertThat(r.getStruct(1).getInt(3)).isBetween(1, 2));
    }

    @Test
    void failFastFailsTheQueryNamingTheRow() {
        assertThatThrownBy(() -> spark.sql("SELECT mm_generate(prompt, image, map('maxTokens', '2', 'mode', 'FAILFAST')) "
                + "FROM pictures").collectAsList())
                .hasStackTraceContaining("row #12 of partition 0 failed (mode FAILFAST)");
        assertThatThrownBy(() -> spark.sql("SELECT mm_generate(prompt, image, map('maxTokenz', '2')) FROM pictures")
                .collectAsList()).hasStackTraceContaining("unknown option 'maxTokenz'");
    }

    @Test
    void structuredOutputsConstrainEveryRowInSqlAndTheDataFrameApi() {
        List<Row> sql = spark.sql("SELECT id, mm_generate(prompt, image, map('maxTokens', '16', 'temperature', '1', "
                + "'structuredOutputs', '{\"choice\": [\"yes\", \"no\", \"not sure\"]}')) AS g FROM pictures "
                + "WHERE prompt IS NOT NULL").collectAsList();
        assertThat(sql).hasSize(12).allSatisfy(r -> {
            assertThat(r.getStruct(1).getString(1)).isEqualTo("stop");
            assertThat(r.getStruct(1).getString(0)).isIn("yes", "no", "not sure");
        });
        List<Row> frame = new io.sparkmm.connector.generate.MultimodalGenerator().setModelPath(model.toString())
                .setPromptCol("prompt").setImageCol("image").setMaxTokens(12).setTemperature(1)
                .setStructuredOutputs("{\"regex\": \"[0-9]{2}-[a-f]{2,3}\"}")
                .transform(spark.table("pictures").filter("prompt IS NOT NULL")).collectAsList();
        assertThat(frame).hasSize(12).allSatisfy(r -> assertThat(r.getStruct(3).getString(0)).matches("[0-9]{2}-[a-f]{2,3}"));
        assertThatThrownBy(() -> new io.sparkmm.connector.generate.MultimodalGenerator().setStructuredOutputs("{\"regex\": 3}"))
                .hasMessageContaining("structured_outputs.regex must be a string");
    }

    /** The MmGenerateExec operators of an executed query, adaptive plans included. */
    private static List<MmGenerateExec> operators(Dataset<Row> df) {
        List<MmGenerateExec> out = new ArrayList<>();
        collect(df.queryExecution().executedPlan(), out);
        return out;
    }

    private static void collect(SparkPlan plan, List<MmGenerateExec> out) {
        if (plan instanceof MmGenerateExec op) {
            out.add(op);
        }
        if (plan instanceof AdaptiveSparkPlanExec adaptive) {
            collect(adaptive.executedPlan(), out);
        }
        for (SparkPlan child : CollectionConverters.asJava(plan.children())) {
            collect(child, out);
        }
    }
}
