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
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Constrained responses as typed Spark columns: the parsed field must equal what Spark's own
 * from_json makes of the generated text (the oracle), with the DataFrame API and with SQL.
 */
class StructuredOutputSparkTest {

    /** No STRING field here: a random tiny model rarely closes a string, so rows would end by length. */
    private static final String DDL = "score INT, ok BOOLEAN, counts ARRAY<TINYINT>, inner STRUCT<x: SMALLINT, flag: BOOLEAN>";
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("prompt", DataTypes.StringType, true)
            .add("image", DataTypes.BinaryType, true);
    private static SparkSession spark;
    private static Path model;
    private static Dataset<Row> rows;

    @BeforeAll
    static void start() {
        model = SparkTestSupport.checkpoint("structured-output");
        spark = SparkTestSupport.sqlSession("StructuredOutputSparkTest", model);
        List<Row> data = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            data.add(RowFactory.create("r" + i, "Fill the form for picture " + i + ".", i % 2 == 0 ? SparkTestSupport.png(300 + i) : null));
        }
        rows = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(data, 2), SCHEMA);
        rows.createOrReplaceTempView("forms");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static MultimodalGenerator generator() {
        return new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt").setImageCol("image")
                .setKeyCol("id").setTemperature(1).setMaxTokens(160);
    }

    @Test
    void theParsedFieldIsWhatFromJsonMakesOfTheText() {
        Dataset<Row> out = generator().setResponseSchema(DDL).transform(rows);
        StructType parsedType = (StructType) ((StructType) out.schema().apply("generation").dataType()).apply("parsed").dataType();
        assertThat(parsedType).isEqualTo(StructType.fromDDL(DDL));
        List<Row> checked = out.select(col("id"), col("generation.finish_reason"), col("generation.error"),
                col("generation.parsed"), from_json(col("generation.text"), StructType.fromDDL(DDL)).as("oracle")).collectAsList();
        assertThat(checked).hasSize(24);
        int complete = 0;
        for (Row r : checked) {
            if ("stop".equals(r.getString(1))) {
                complete++;
                assertThat(r.isNullAt(2)).as("%s: %s", r.getString(0), r.get(2)).isTrue();
                assertThat(r.getStruct(3)).as(r.getString(0)).isEqualTo(r.getStruct(4));
                // every field is filled: the schema requires them all
                for (int i = 0; i < parsedType.size(); i++) {
                    assertThat(r.getStruct(3).isNullAt(i)).as("%s field %d", r.getString(0), i).isFalse();
                }
            } else {
                assertThat(r.isNullAt(3)).isTrue();
                assertThat(r.getString(2)).contains("length limit");
            }
        }
        assertThat(complete).as("rows whose response completed").isGreaterThan(18);
    }

    @Test
    void sqlGetsTheSameTypedField() {
        Dataset<Row> out = spark.sql("SELECT id, g.text, g.parsed FROM (SELECT id, mm_generate(prompt, image, "
                + "map('maxTokens', '160', 'temperature', '1', 'responseSchema', '" + DDL + "')) AS g FROM forms)");
        assertThat(out.schema().apply("parsed").dataType()).isEqualTo(StructType.fromDDL(DDL));
        List<Row> checked = out.select(col("id"), col("parsed"), from_json(col("text"), StructType.fromDDL(DDL))).collectAsList();
        assertThat(checked).hasSize(24).filteredOn(r -> !r.isNullAt(1)).hasSizeGreaterThan(18)
                .allSatisfy(r -> assertThat(r.getStruct(1)).isEqualTo(r.getStruct(2)));
    }

    @Test
    void choicesRegexAndStringsCutByLength() {
        List<Row> choices = generator().setResponseChoices("cat", "dog", "a red car").setMaxTokens(16).transform(rows)
                .select("generation.text").collectAsList();
        assertThat(choices).allSatisfy(r -> assertThat(r.getString(0)).isIn("cat", "dog", "a red car"));
        List<Row> codes = generator().setResponseRegex("[A-F]{2}[0-9]{1,3}").setMaxTokens(16).transform(rows)
                .select("generation.text", "generation.finish_reason").collectAsList();
        assertThat(codes).allSatisfy(r -> assertThat(r.getString(0)).matches("[A-F]{2}[0-9]{1,3}"));
        // 6 tokens cannot hold {"label": "..."} on a byte-level vocabulary: every row says so
        List<Row> cut = generator().setResponseSchema("label STRING").setMaxTokens(6).transform(rows)
                .select("generation.parsed", "generation.error", "generation.finish_reason").collectAsList();
        assertThat(cut).allSatisfy(r -> {
            assertThat(r.isNullAt(0)).isTrue();
            assertThat(r.getString(1)).contains("length limit after 6 tokens");
            assertThat(r.getString(2)).isEqualTo("length");
        });
    }

    @Test
    void badResponseOptionsFailOnTheDriverNamingThem() {
        assertThatThrownBy(() -> generator().setResponseSchema("label STRING").setResponseRegex("a+").transform(rows))
                .hasMessageContaining("responseSchema").hasMessageContaining("responseRegex").hasMessageContaining("set one");
        assertThatThrownBy(() -> generator().setResponseSchema("day DATE"))
                .hasMessageContaining("'day'").hasMessageContaining("date");
        assertThatThrownBy(() -> generator().setResponseSchema("label STRIN"))
                .hasMessageContaining("not a Spark DDL struct");
        assertThatThrownBy(() -> generator().setResponseJsonSchema("{\"type\": \"array\", \"uniqueItems\": true}"))
                .hasMessageContaining("'uniqueItems'");
    }
}
