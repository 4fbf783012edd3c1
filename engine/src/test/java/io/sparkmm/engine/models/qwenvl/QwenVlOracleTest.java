package io.sparkmm.engine.models.qwenvl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Qwen-VL against the PyTorch re-statement of its original modeling_qwen.py and visual.py (as vLLM
 * re-implements them), torchvision's transforms and tiktoken: src/test/python/qwenvl_fixtures.py,
 * run on the checkpoint this test writes (its sha256 is checked, so both sides read the same
 * bytes). Pixels, the encoder's 256 rows, the prompt's ids, logits within 2e-4 and 8 greedy tokens.
 */
class QwenVlOracleTest {

    @TempDir
    static Path dir;
    static JsonNode fixture;
    static Backend backend;
    static LoadedModel model;
    static QwenVlModel qwen;

    @BeforeAll
    static void load() throws Exception {
        fixture = new ObjectMapper().readTree(Path.of("src/test/resources/qwenvl/model_fixture.json").toFile());
        TinyQwenVlCheckpoint.write(dir, TinyQwenVlCheckpoint.Spec.tiny());
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(dir.resolve("model.safetensors"))));
        assertThat(sha).as("the checkpoint the oracle ran on").isEqualTo(fixture.get("model_safetensors_sha256").asText());
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(dir, backend);
        qwen = (QwenVlModel) model.model();
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    @Test
    void pixelsMatchTorchvisionIncludingOneByOneAndTwentyThousandByTwenty() {
        for (String name : List.of("grad90x60", "dot1x1", "strip20000x20")) {
            float[] px = pixels(name);
            double err = compare(px, fixture.get("pixels").get(name));
            System.out.printf("qwen-vl pixels %s: max |diff| %.2e%n", name, err);
            assertThat(err).as(name).isLessThan(1e-6);
        }
    }

    @Test
    void encoderRowsMatchTheOracle() {
        for (String name : List.of("grad90x60", "dot1x1")) {
            try (Tensor rows = qwen.encodeImage(pixels(name))) {
                assertThat(rows.rows()).isEqualTo(256);
                double err = compare(backend.download(rows), fixture.get("features").get(name));
                System.out.printf("qwen-vl encoder rows %s: max |diff| %.2e%n", name, err);
                assertThat(err).as(name).isLessThan(5e-5);
            }
        }
    }

    @Test
    void aBf16CheckpointLoadsWithTheSameLayout() {
        // Qwen-VL ships BF16: the per-head q/k/v regrouping and the position tables must read 2-byte
        // elements as well; a layout slip would move the rows by O(1), rounding moves them by ~1e-2
        Path bf16 = TinyQwenVlCheckpoint.write(dir.resolve("bf16"), TinyQwenVlCheckpoint.Spec.tiny()
                .withDtype(io.sparkmm.kernels.DType.BF16));
        try (LoadedModel m = LoadedModel.open(bf16, backend);
             Tensor a = ((QwenVlModel) m.model()).encodeImage(pixels("grad90x60"));
             Tensor b = qwen.encodeImage(pixels("grad90x60"))) {
            float[] x = backend.download(a);
            float[] y = backend.download(b);
            double max = 0;
            double mean = 0;
            for (int i = 0; i < x.length; i++) {
                max = Math.max(max, Math.abs(x[i] - y[i]));
                mean += Math.abs(x[i] - y[i]) / x.length;
            }
            System.out.printf("qwen-vl bf16 vs f32 encoder rows: max |diff| %.3f, mean %.4f%n", max, mean);
            assertThat(mean).isLessThan(0.05);
            assertThat(max).isLessThan(0.5);
        }
    }

    @Test
    void promptIdsLogitsAndGreedyTokensMatchTheOracle() {
        MultimodalProcessor p = QwenVlTesting.processor(model);
        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>());
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        double worst = 0;
        for (JsonNode c : fixture.get("cases")) {
            List<MediaSource> images = new ArrayList<>();
            c.get("images").forEach(n -> images.add(QwenVlTesting.image(n.asText())));
            EngineRequest r = QwenVlTesting.request(p, c.get("prompt").asText(), false, images, greedy);
            assertThat(r.promptTokenIds()).as(c.get("name").asText()).containsExactly(ints(c.get("ids")));
            var fields = c.get("logits").properties();
            for (var e : fields) {
                int pos = Integer.parseInt(e.getKey());
                int[] prefix = java.util.Arrays.copyOf(r.promptTokenIds(), pos + 1);
                List<MediaInput> media = r.media().stream().filter(m -> m.offset() + m.placeholder().length() <= pos + 1).toList();
                float[] got = naive.lastLogits(prefix, media);
                double err = 0;
                for (int i = 0; i < got.length; i++) {
                    err = Math.max(err, Math.abs(got[i] - e.getValue().get(i).asDouble()));
                }
                assertThat(got).hasSize(e.getValue().size());
                worst = Math.max(worst, err);
                assertThat(err).as("%s logits at %d", c.get("name").asText(), pos).isLessThan(2e-4);
            }
            assertThat(naive.generate(r.promptTokenIds(), r.media(), greedy).tokenIds()).as(c.get("name").asText())
                    .containsExactly(ints(c.get("greedy")));
        }
        System.out.printf("qwen-vl logits: max |diff| %.2e over %d cases%n", worst, fixture.get("cases").size());
    }

    @Test
    void theEnginesTextIsQwensDecodingOfTheGreedyTokens() throws Exception {
        // incremental detokenizing over tiktoken: partial characters become U+FFFD as Qwen's errors="replace" makes them
        MultimodalProcessor p = QwenVlTesting.processor(model);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        try (io.sparkmm.engine.Engine engine = new io.sparkmm.engine.Engine(model, io.sparkmm.engine.EngineConfig.defaults())) {
            for (JsonNode c : fixture.get("cases")) {
                List<MediaSource> images = new ArrayList<>();
                c.get("images").forEach(n -> images.add(QwenVlTesting.image(n.asText())));
                io.sparkmm.engine.EngineResult r = engine.submit(QwenVlTesting.request(p, c.get("prompt").asText(), false,
                        images, greedy)).result().get();
                assertThat(r.tokenIds()).as(c.get("name").asText()).containsExactly(ints(c.get("greedy")));
                assertThat(r.text()).as(c.get("name").asText()).isEqualTo(c.get("greedy_text").asText());
            }
        }
    }

    private static float[] pixels(String name) {
        ProcessedItem item = qwen.processor().process("h-" + name, "image", QwenVlTesting.image(name), MediaLimits.defaults());
        assertThat(item.tensor(QwenVlProcessor.PIXEL_VALUES).shape()).containsExactly(3, 448, 448);
        return item.tensor(QwenVlProcessor.PIXEL_VALUES).data();
    }

    /** Max |diff| against the oracle's every stride-th value; the sum of all values must agree too. */
    private static double compare(float[] got, JsonNode expected) {
        int stride = expected.get("stride").asInt();
        assertThat(got.length).isEqualTo(expected.get("count").asInt());
        JsonNode values = expected.get("values");
        double err = 0;
        for (int i = 0; i < values.size(); i++) {
            double want = values.get(i).asDouble();
            err = Math.max(err, Math.abs(got[i * stride] - want) / Math.max(1, Math.abs(want)));
        }
        double sum = 0;
        for (float v : got) {
            sum += v;
        }
        assertThat(sum).isCloseTo(expected.get("sum").asDouble(), org.assertj.core.data.Offset.offset(1e-5 * expected.get("abs_sum").asDouble()));
        return err;
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
