package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.MediaRows;
import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.media.MediaSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our own tiny Qwen2-Audio checkpoint ({@link TinyQwen2AudioCheckpoint}: the Hub's layout, BF16)
 * against transformers 5.18 and 4.57 on it (qwen2audio_ours_fixtures.py): both eras load it with no
 * missing, unexpected or mismatched keys and read our tokenizer and preprocessor_config.json; the
 * engine's expanded prompt ids (text mode, and chat mode with two clips through the checkpoint's
 * template) equal their processor's, the family's logits at the first and last positions are
 * within 1e-5 of theirs (the BF16 weights upcast exactly on both sides), and the engine's greedy
 * tokens are theirs. The committed checkpoint is what the writer makes today, byte for byte.
 */
class Qwen2AudioOursCheckpointTest {

    private static final Path RES = Path.of("src/test/resources/qwen2audio");
    private static final Path ROOT = Path.of("src/test/resources/checkpoints-qwen2audio");
    private static final String NAME = "qwen2_audio_ours_hub_bf16";
    private static final double TOLERANCE = 1e-5;
    private static final List<String> ERAS = List.of("tf5", "tf4");

    @TempDir
    Path tmp;

    private static JsonNode fixtures() throws Exception {
        return new ObjectMapper().readTree(RES.resolve("qwen2audio_ours_fixtures.json").toFile());
    }

    @Test
    void theCommittedCheckpointIsWhatTheWriterMakes() throws Exception {
        Qwen2AudioOracleCheckpoints.main(new String[] {tmp.toString()});
        Path made = tmp.resolve(NAME);
        try (var files = Files.list(ROOT.resolve(NAME))) {
            List<Path> committed = files.sorted().toList();
            assertThat(committed).hasSize(6);
            for (Path f : committed) {
                assertThat(Files.readAllBytes(made.resolve(f.getFileName())))
                        .as("%s written today", f.getFileName()).isEqualTo(Files.readAllBytes(f));
            }
        }
        assertThat(Files.readString(made.resolve("config.json"))).contains("\"torch_dtype\" : \"bfloat16\"");
        String header = new String(Files.readAllBytes(made.resolve("model.safetensors")), 8, 4096,
                java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(header).contains("\"dtype\":\"BF16\"").doesNotContain("\"dtype\":\"F32\"");
    }

    @Test
    void bothTransformersErasLoadItCleanly() throws Exception {
        JsonNode fx = fixtures();
        for (String era : ERAS) {
            JsonNode info = fx.get(era).get("loading_info");
            assertThat(info).as("%s loading info", era).isNotNull();
            for (String key : List.of("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")) {
                assertThat(info.get(key)).as("%s %s", era, key).isNotNull().isEmpty();
            }
        }
    }

    @Test
    void logitsMatchBothEras() throws Exception {
        JsonNode fx = fixtures();
        int audioId = TinyQwen2AudioCheckpoint.AUDIO_ID;
        double worst = 0;
        try (Backend backend = Backends.open("cpu", 2);
             Checkpoint ckpt = Checkpoint.open(ROOT.resolve(NAME));
             FamilyModel model = ModelFamilies.load(ckpt, backend)) {
            assertThat(ModelFamilies.forCheckpoint(ckpt).name()).isEqualTo("qwen2-audio");
            Qwen2AudioProcessor processor = (Qwen2AudioProcessor) model.processor();
            DecoderModel text = model.languageModel();
            for (String era : ERAS) {
                for (JsonNode c : fx.get(era).get("cases")) {
                    int n = c.get("samples").asInt();
                    int[] ids = ints(c.get("input_ids"));
                    var item = processor.processed("clip" + n, Qwen2AudioTestClips.clip(n, c.get("seed").asLong()));
                    var rep = processor.replacement(item);
                    assertThat(ids[0]).isEqualTo(TinyQwen2AudioCheckpoint.AUDIO_BOS_ID);
                    assertThat(rep.tokens()).isEqualTo(Arrays.copyOfRange(ids, 1, 1 + rep.length()));
                    assertThat(ids[1 + rep.length()]).isNotEqualTo(audioId);
                    var range = new io.sparkmm.processors.prompt.PlaceholderRange(1, rep.length(), rep.isEmbed());
                    int[] positions = new int[ids.length];
                    Arrays.setAll(positions, i -> i);
                    try (Tensor rows = model.encode(new MediaInput(item, range));
                         Tensor hidden = text.embed(ids)) {
                        MediaRows.merge(backend, rows, range, range.offset(), range.end(), hidden, range.offset());
                        text.forwardLayers(hidden, positions);
                        worst = Math.max(worst, compare(text.logitsOfRow(hidden, 0), c.get("first_logits"), era + " " + n + " first"));
                        worst = Math.max(worst, compare(text.logitsOfRow(hidden, ids.length - 1), c.get("last_logits"),
                                era + " " + n + " last"));
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "Qwen2-Audio ours (Hub layout, BF16) vs transformers 5 and 4: worst |diff| %.3g%n",
                worst);
    }

    @Test
    void engineMatchesPromptIdsAndGreedyTokensOfBothEras() throws Exception {
        JsonNode fx = fixtures();
        String prompt = fx.get("prompt").asText();
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(6).ignoreEos(true).build();
        try (EngineSession session = EngineSession.open(ROOT.resolve(NAME).toString(), EngineOptions.defaults()
                .withDevice("cpu").withEngine(EngineConfig.defaults()).withProcessorCacheBytes(16L << 20))) {
            for (String era : ERAS) {
                for (JsonNode c : fx.get(era).get("cases")) {
                    int n = c.get("samples").asInt();
                    PromptInput in = new PromptInput(prompt, null, false, null, List.of(),
                            List.of(wav(n, c.get("seed").asLong())), List.of());
                    check(session, in, greedy, c, era + " text " + n);
                }
                JsonNode chat = fx.get(era).get("chat");
                List<MediaSource> clips = new ArrayList<>();
                for (int i = 0; i < chat.get("samples").size(); i++) {
                    clips.add(wav(chat.get("samples").get(i).asInt(), chat.get("seeds").get(i).asLong()));
                }
                check(session, new PromptInput(chat.get("text").asText(), null, true, null, List.of(), clips, List.of()),
                        greedy, chat, era + " chat");
            }
        }
    }

    private static void check(EngineSession session, PromptInput in, SamplingParams greedy, JsonNode c, String what) {
        EngineRequest request = session.requests().build(null, in, greedy);
        assertThat(request.promptTokenIds()).as("%s prompt ids", what).isEqualTo(ints(c.get("input_ids")));
        EngineResult r = session.engine().submit(request).result().join();
        assertThat(r.ok()).as("%s: %s", what, r.error()).isTrue();
        assertThat(c.get("greedy_min_gap").asDouble()).as("%s: no near-tie on the greedy path", what).isGreaterThan(1e-3);
        assertThat(r.tokenIds()).as("%s greedy tokens", what).isEqualTo(ints(c.get("greedy_tokens")));
    }

    private static MediaSource wav(int n, long seed) {
        return MediaSource.ofBytes("clip" + n + ".wav", Qwen2AudioTestClips.floatWav(Qwen2AudioTestClips.clip(n, seed), 16000));
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        Arrays.setAll(out, i -> a.get(i).asInt());
        return out;
    }

    private static double compare(float[] got, JsonNode want, String what) {
        assertThat(got).as(what).hasSize(want.size());
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            double diff = Math.abs(got[i] - want.get(i).asDouble());
            assertThat(diff).as("%s, logit %d: got %s, transformers %s", what, i, got[i], want.get(i))
                    .isLessThanOrEqualTo(TOLERANCE);
            worst = Math.max(worst, diff);
        }
        return worst;
    }
}
