package io.sparkmm.sparktests.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.media.MediaSource;
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

/**
 * LLaVA-OneVision through MultimodalGenerator in local[2]: a DataFrame of images (one tile, a shrunk
 * canvas, both extreme aspect ratios; chat and plain prompts) on the tiny checkpoint transformers
 * wrote (engine's test resources, with transformers' fixtures). Each row must have transformers'
 * prompt length, and the same text as the engine alone, whose greedy tokens must be transformers'.
 */
class LlavaOnevisionSparkTest {

    private static final int MAX_TOKENS = 8;
    /** engine's test resources: the checkpoint and its fixtures are committed there (CI has no torch). */
    private static final Path RESOURCES = Path.of("..", "engine", "src", "test", "resources", "llava_onevision")
            .toAbsolutePath().normalize();

    private static SparkSession spark;
    private static JsonNode fixtures;

    @BeforeAll
    static void start() throws IOException {
        assertThat(RESOURCES.resolve("tiny/config.json")).as("the tiny LLaVA-OneVision checkpoint").exists();
        fixtures = new ObjectMapper().readTree(RESOURCES.resolve("fixtures.json").toFile());
        spark = SparkTestSupport.session("local[2]", "LlavaOnevisionSparkTest").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void aFrameOfImagesGivesTransformersPromptsAndTheEngineAlonesAnswers() throws IOException {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("chat", DataTypes.BooleanType).add("image", DataTypes.BinaryType);
        List<Row> in = new ArrayList<>();
        List<JsonNode> cases = new ArrayList<>();
        fixtures.get("cases").forEach(cases::add);
        for (JsonNode c : cases) {
            boolean chat = c.get("chat").asBoolean();
            byte[] png = Files.readAllBytes(RESOURCES.resolve("images").resolve(c.get("image").asText()));
            in.add(RowFactory.create(c.get("name").asText(), chat ? c.get("question").asText()
                    : c.get("prompt_text").asText(), chat, png));
        }
        assertThat(in).hasSizeGreaterThanOrEqualTo(5);
        List<Row> chatRows = in.stream().filter(r -> r.getBoolean(2)).toList();
        List<Row> plainRows = in.stream().filter(r -> !r.getBoolean(2)).toList();
        List<Row> out = new ArrayList<>(generate(chatRows, schema, true));
        out.addAll(generate(plainRows, schema, false));

        List<Row> ordered = new ArrayList<>(chatRows);
        ordered.addAll(plainRows);
        List<EngineResult> alone = engineAlone(ordered);
        for (int i = 0; i < ordered.size(); i++) {
            String id = ordered.get(i).getString(0);
            JsonNode c = cases.stream().filter(x -> x.get("name").asText().equals(id)).findFirst().orElseThrow();
            Row g = out.get(i).getStruct(out.get(i).fieldIndex("generation"));
            assertThat(out.get(i).getString(0)).isEqualTo(id);
            assertThat(g.isNullAt(5)).as("error of %s: %s", id, g.get(5)).isTrue();
            assertThat(g.getInt(2)).as("prompt_tokens of %s (transformers' expansion)", id)
                    .isEqualTo(c.get("input_ids").size());
            assertThat(alone.get(i).tokenIds()).as("greedy tokens of %s (transformers')", id)
                    .containsExactly(ints(c.get("greedy_ids")));
            assertThat(g.getString(0)).as("text of %s", id).isEqualTo(alone.get(i).text());
            assertThat(g.getInt(3)).isEqualTo(MAX_TOKENS);
        }
    }

    private static List<Row> generate(List<Row> rows, StructType schema, boolean chat) {
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(RESOURCES.resolve("tiny").toString())
                .setPromptCol("prompt").setKeyCol("id").setImageCol("image").setMaxTokens(MAX_TOKENS)
                .setTemperature(0).setIgnoreEos(true).setChatTemplate(chat);
        return g.transform(spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 2), schema))
                .collectAsList();
    }

    /** The same requests through a separately loaded engine, no Spark, no connector code. */
    private static List<EngineResult> engineAlone(List<Row> rows) {
        try (EngineSession session = EngineSession.open(RESOURCES.resolve("tiny").toString(),
                EngineOptions.defaults().withEngine(EngineConfig.defaults()).withProcessorCacheBytes(16L << 20))) {
            Engine engine = session.engine();
            MultimodalProcessor processor = session.requests();
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(MAX_TOKENS).ignoreEos(true).build();
            List<RequestHandle> handles = new ArrayList<>();
            for (Row r : rows) {
                PromptInput p = new PromptInput(r.getString(1), null, r.getBoolean(2), null,
                        List.of(MediaSource.ofBytes(r.getString(0), (byte[]) r.get(3))), List.of(), List.of(),
                        ProcessorKwargs.NONE);
                handles.add(engine.submit(processor.build(null, p, greedy)));
            }
            List<EngineResult> out = new ArrayList<>();
            for (RequestHandle h : handles) {
                EngineResult r = h.result().join();
                assertThat(r.ok()).as("engine request failed: %s", r.error()).isTrue();
                out.add(r);
            }
            return out;
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
