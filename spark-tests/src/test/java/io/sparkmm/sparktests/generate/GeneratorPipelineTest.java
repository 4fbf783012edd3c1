package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.GenerationSchema;
import io.sparkmm.connector.generate.GeneratorOptions;
import io.sparkmm.connector.generate.MultimodalGenerator;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** MultimodalGenerator as a Spark ML Transformer: Params, copy, schema, Pipeline save and load. */
class GeneratorPipelineTest {

    private static SparkSession spark;
    private static Path model;
    private static Dataset<Row> df;

    @BeforeAll
    static void start() {
        model = SparkTestSupport.checkpoint("pipeline-test");
        spark = SparkTestSupport.session("local[2]", "GeneratorPipelineTest").getOrCreate();
        StructType schema = new StructType().add("id", DataTypes.StringType, false)
                .add("prompt", DataTypes.StringType, true).add("image", DataTypes.BinaryType, true);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            rows.add(RowFactory.create("r" + i, "Picture " + i + ", what is it?", i % 2 == 0 ? SparkTestSupport.png(i) : null));
        }
        df = spark.createDataFrame(rows, schema).repartition(2);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Non-default values of every kind of Param (string, int, long, double, boolean, both enums, both lists). */
    private static MultimodalGenerator generator() {
        return new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt").setImageCol("image")
                .setKeyCol("id").setMaxTokens(5).setTemperature(0).setRepetitionPenalty(1.3).setSeed(11L)
                .setIgnoreEos(true).setMode("FAILFAST").setStop("zzz", "qq").setStopTokenIds(1, 2).setLogprobs(2)
                .setAffinity("media").setOutputCol("gen");
    }

    /** Rows by id without cached_tokens, which depends on what the engine ran before. */
    private static List<List<Object>> comparable(Dataset<Row> out) {
        List<List<Object>> rows = new ArrayList<>();
        for (Row r : out.orderBy("id").collectAsList()) {
            Row g = r.getStruct(r.fieldIndex("gen"));
            rows.add(List.of(r.getString(0), String.valueOf(g.get(0)), String.valueOf(g.get(1)), g.get(3),
                    String.valueOf(g.get(6))));
        }
        return rows;
    }

    @Test
    void pipelineSavesAndLoadsWithTheSameParamsAndRows() throws Exception {
        MultimodalGenerator g = generator();
        Path dir = SparkTestSupport.TARGET.resolve("ml").resolve("pipeline-" + System.nanoTime());
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {g});
        pipeline.write().overwrite().save(dir.resolve("pipeline").toString());
        MultimodalGenerator fromPipeline = (MultimodalGenerator) Pipeline.load(dir.resolve("pipeline").toString())
                .getStages()[0];
        PipelineModel fitted = pipeline.fit(df);
        fitted.write().overwrite().save(dir.resolve("model").toString());
        PipelineModel loaded = PipelineModel.load(dir.resolve("model").toString());
        MultimodalGenerator fromModel = (MultimodalGenerator) loaded.stages()[0];
        g.write().overwrite().save(dir.resolve("stage").toString());
        MultimodalGenerator alone = MultimodalGenerator.load(dir.resolve("stage").toString());

        for (MultimodalGenerator l : List.of(fromPipeline, fromModel, alone)) {
            assertThat(l.uid()).isEqualTo(g.uid());
            assertThat(l.explainParams()).isEqualTo(g.explainParams());
            assertThat(l.settings()).isEqualTo(g.settings());
            assertThat(l.getStopTokenIds()).containsExactly(1, 2);
            assertThat(l.getStop()).containsExactly("zzz", "qq");
        }
        List<List<Object>> expected = comparable(g.transform(df));
        assertThat(expected).hasSize(4).allSatisfy(r -> assertThat(r.get(3)).isEqualTo(5));
        assertThat(comparable(loaded.transform(df))).isEqualTo(expected);
    }

    @Test
    void paramsAreTypedAndListEveryOption() {
        MultimodalGenerator g = generator();
        List<GeneratorOptions.Option<?>> options = GeneratorOptions.all();
        assertThat(g.params()).hasSize(options.size());
        String explained = g.explainParams();
        assertThat(explained.split("\n")).hasSize(options.size());
        for (GeneratorOptions.Option<?> o : options) {
            assertThat(explained).contains(o.name() + ": " + o.doc());
            assertThat(g.hasParam(o.name())).isTrue();
        }
        assertThat(g.explainParam(g.getParam("stop"))).endsWith("(default: [], current: [zzz, qq])");
        assertThat(g.explainParam(g.getParam("promptTemplate"))).endsWith("(default: none)");
        assertThat(g.getParam("topK")).isInstanceOf(IntParam.class);
        assertThat(g.getParam("seed")).isInstanceOf(LongParam.class);
        assertThat(g.getParam("minP")).isInstanceOf(DoubleParam.class);
        assertThat(g.getParam("ignoreEos")).isInstanceOf(BooleanParam.class);
        assertThat(g.getParam("stop")).isInstanceOf(StringArrayParam.class);
        assertThat(g.getParam("stopTokenIds")).isInstanceOf(IntArrayParam.class);
        assertThat(g.getOrDefault(g.getParam("repetitionPenalty"))).isEqualTo(1.3);
        MultimodalGenerator fresh = new MultimodalGenerator();
        assertThat(fresh.getOrDefault(fresh.getParam("maxTokens")))
                .isEqualTo(GeneratorOptions.MAX_TOKENS.defaultValue());

        // the Params API and the typed getters are one store
        @SuppressWarnings("unchecked")
        Param<Object> topK = (Param<Object>) g.getParam("topK");
        g.set(topK, 7);
        assertThat(g.getTopK()).isEqualTo(7);
        // null and "" clear back to the default
        assertThat(g.setKeyCol(null).isSet(g.getParam("keyCol"))).isFalse();
        assertThat(g.set("outputCol", "").getOutputCol()).isEqualTo("generation");
    }

    @Test
    void copyTakesExtraParamsAndLeavesTheOriginal() {
        MultimodalGenerator g = generator();
        MultimodalGenerator c = g.copy(new ParamMap().put(g.getParam("maxTokens"), 3));
        assertThat(c.uid()).isEqualTo(g.uid());
        assertThat(c.getMaxTokens()).isEqualTo(3);
        assertThat(g.getMaxTokens()).isEqualTo(5);
        assertThat(c.getStopTokenIds()).containsExactly(1, 2);
        // the Transformer's transform(df, extra) goes through copy
        List<Row> out = g.transform(df, new ParamMap().put(g.getParam("maxTokens"), 3)).collectAsList();
        assertThat(out).allSatisfy(r -> assertThat(r.getStruct(3).getInt(3)).isEqualTo(3));
    }

    @Test
    void transformSchemaAddsTheStructAndNamesAMissingColumn() {
        StructType in = df.schema();
        assertThat(generator().transformSchema(in).apply("gen").dataType()).isEqualTo(GenerationSchema.RESULT_WITH_LOGPROBS);
        assertThat(generator().setLogprobs(0).transformSchema(in).apply("gen").dataType()).isEqualTo(GenerationSchema.RESULT);
        assertThat(generator().transformSchema(in).fieldNames()).containsExactly("id", "prompt", "image", "gen");
        assertThatThrownBy(() -> generator().setImageCol("photo").transformSchema(in))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'photo'").hasMessageContaining("imageCol");
        assertThatThrownBy(() -> generator().setVideoCol("clip").transformSchema(in)).hasMessageContaining("'clip'")
                .hasMessageContaining("videoCol");
        assertThatThrownBy(() -> generator().setPromptCol("question").transformSchema(in))
                .hasMessageContaining("'question'").hasMessageContaining("promptCol");
        assertThatThrownBy(() -> new Pipeline().setStages(new PipelineStage[] {generator().setImageCol("photo")}).fit(df))
                .hasMessageContaining("'photo'");
    }
}
