package io.sparkmm.engine.models.qwen25omni;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our own tiny Qwen2.5-Omni checkpoint ({@link TinyQwen25OmniCheckpoint}: the Hub's whole-Omni layout,
 * thinker only, BF16) against transformers 5.18 on it (qwen25omni_ours_fixtures.py):
 * Qwen2_5OmniForConditionalGeneration loads it with no missing, unexpected or mismatched keys and its
 * AutoProcessor reads our tokenizer, chat template and preprocessor_config.json; for an audio clip, an
 * image and a video with its own audio track (use_audio_in_video) the engine's expanded prompt ids and
 * TMRoPE positions equal theirs, the thinker's logits at the first and last prompt positions are within
 * 2e-4 of theirs (the BF16 weights upcast exactly on both sides), and the engine's greedy tokens are
 * theirs. The committed checkpoint is what the writer makes today, byte for byte.
 */
class Qwen25OmniOursCheckpointTest {

    private static final Path ROOT = Path.of("src/test/resources/checkpoints-qwen25omni");
    private static final String NAME = "qwen25_omni_ours_hub_bf16";
    private static final double TOLERANCE = 2e-4;

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(ROOT.resolve(NAME), backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static JsonNode fixtures() {
        try {
            return new ObjectMapper().readTree(OmniTesting.RES.resolve("qwen25omni_ours_fixtures.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode fixtureCase(String name) {
        for (JsonNode c : fixtures().get("cases")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no fixture case " + name);
    }

    @Test
    void theCommittedCheckpointIsWhatTheWriterMakes() throws Exception {
        Path out = dir.resolve("written");
        Qwen25OmniOracleCheckpoints.main(new String[] {out.toString()});
        Path made = out.resolve(NAME);
        try (var files = Files.list(ROOT.resolve(NAME))) {
            List<Path> committed = files.sorted().toList();
            assertThat(committed).hasSize(7);
            for (Path f : committed) {
                assertThat(Files.readAllBytes(made.resolve(f.getFileName())))
                        .as("%s written today", f.getFileName()).isEqualTo(Files.readAllBytes(f));
            }
        }
        String config = Files.readString(made.resolve("config.json"));
        assertThat(config).contains("\"thinker_config\"").contains("\"torch_dtype\" : \"bfloat16\"");
        byte[] st = Files.readAllBytes(made.resolve("model.safetensors"));
        int headerLength = (int) java.nio.ByteBuffer.wrap(st, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(st, 8, headerLength, StandardCharsets.ISO_8859_1);
        assertThat(header).contains("\"thinker.model.embed_tokens.weight\"").contains("\"dtype\":\"BF16\"")
                .doesNotContain("\"dtype\":\"F32\"");
        try (Checkpoint ckpt = Checkpoint.open(made)) {
            assertThat(ModelFamilies.forCheckpoint(ckpt).name()).isEqualTo("qwen2.5-omni");
            assertThat(ckpt.tensorNames()).allMatch(n -> n.startsWith("thinker."));
        }
    }

    @Test
    void transformersLoadsItCleanly() {
        JsonNode fx = fixtures();
        assertThat(fx.get("loaded_as").asText()).startsWith("Qwen2_5OmniForConditionalGeneration");
        JsonNode info = fx.get("loading_info");
        for (String key : List.of("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")) {
            assertThat(info.get(key)).as(key).isNotNull().isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"audio", "image", "video_with_audio"})
    void matchesTransformers(String name) {
        JsonNode c = fixtureCase(name);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(c.get("greedy_tokens").size())
                .ignoreEos(true).build();
        EngineRequest r = Qwen25OmniHfConformanceTest.request(model, c, dir.resolve(name), greedy);
        int[] ids = r.promptTokenIds();
        assertThat(ids).as("expanded prompt ids").containsExactly(OmniTesting.ints(c.get("input_ids")));

        RequestPositions positions = ((Qwen25OmniModel) model.model()).positions(ids, r.media());
        int[][] got = new int[3][ids.length];
        positions.fill(0, ids.length, got, 0);
        for (int s = 0; s < 3; s++) {
            assertThat(got[s]).as("TMRoPE section %d", s).containsExactly(OmniTesting.ints(c.get("position_ids").get(s)));
        }
        assertThat(positions.delta()).as("rope delta").isEqualTo(c.get("rope_delta").asInt());

        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        double worst = Math.max(close(naive.lastLogits(new int[] {ids[0]}, List.of()), c.get("first_logits"),
                name + " first logits"), close(naive.lastLogits(ids, r.media()), c.get("last_logits"), name + " last logits"));
        assertThat(c.get("greedy_min_gap").asDouble()).as("no near-tie on the greedy path").isGreaterThan(1e-3);
        assertThat(naive.generate(ids, r.media(), greedy).tokenIds()).as("naive greedy tokens")
                .containsExactly(OmniTesting.ints(c.get("greedy_tokens")));
        System.out.printf(Locale.ROOT, "Qwen2.5-Omni ours (whole-Omni layout, BF16) %s vs transformers: %d prompt tokens,"
                + " worst logit |diff| %.3g%n", name, ids.length, worst);
    }

    /** The batching engine, from the checkpoint's path as a user would open it, gives transformers' tokens too. */
    @Test
    void theEngineGivesTransformersGreedyTokens() {
        try (EngineSession session = EngineSession.open(ROOT.resolve(NAME).toString(), EngineOptions.defaults()
                .withDevice("cpu").withEngine(EngineConfig.defaults()).withProcessorCacheBytes(16L << 20))) {
            for (JsonNode c : fixtures().get("cases")) {
                String name = c.get("name").asText();
                SamplingParams greedy = SamplingParams.builder().temperature(0)
                        .maxTokens(c.get("greedy_tokens").size()).ignoreEos(true).build();
                EngineRequest request = Qwen25OmniHfConformanceTest.request(session.model(), c,
                        dir.resolve("engine-" + name), greedy);
                EngineResult res = session.engine().submit(request).result().join();
                assertThat(res.ok()).as("%s: %s", name, res.error()).isTrue();
                assertThat(res.tokenIds()).as("%s engine greedy tokens", name)
                        .containsExactly(OmniTesting.ints(c.get("greedy_tokens")));
            }
        }
    }

    private static double close(float[] got, JsonNode want, String what) {
        assertThat(got).as(what).hasSize(want.size());
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            double diff = Math.abs(got[i] - want.get(i).asDouble());
            assertThat(diff).as("%s %d: got %s, transformers %s", what, i, got[i], want.get(i)).isLessThanOrEqualTo(TOLERANCE);
            worst = Math.max(worst, diff);
        }
        return worst;
    }
}
