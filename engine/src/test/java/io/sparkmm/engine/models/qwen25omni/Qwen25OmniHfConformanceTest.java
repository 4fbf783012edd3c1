package io.sparkmm.engine.models.qwen25omni;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tiny Qwen2.5-Omni thinker that transformers saved, against transformers itself
 * (qwen25omni_fixtures.py): the media written as lossless files and read back by the engine's own
 * processor (audio WAV, image PNG, video FFV1 + float PCM), then the expanded prompt ids, the TMRoPE
 * position ids and rope delta, the valid log-mel features, the audio and vision towers' outputs,
 * the logits at the first and last prompt positions and the greedy tokens, for an audio prompt,
 * an image, a video, and an image + a video with its own audio (use_audio_in_video) + a separate clip.
 */
class Qwen25OmniHfConformanceTest {

    private static final double TOLERANCE = 2e-4;
    private static final double FEATURE_TOLERANCE = 1e-4;

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(OmniTesting.CKPT, backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    /** The request the engine builds from the fixture case's media, as files. */
    static EngineRequest request(LoadedModel model, JsonNode c, Path dir, SamplingParams sampling) {
        dir.toFile().mkdirs();
        boolean inVideo = c.get("use_audio_in_video").asBoolean();
        List<MediaSource> images = new ArrayList<>();
        for (JsonNode i : c.get("images")) {
            images.add(MediaSource.ofPath(OmniTesting.png(dir, i.get(0).asInt(), i.get(1).asInt(), i.get(2).asInt()).toString()));
        }
        List<JsonNode> clips = new ArrayList<>();
        c.get("clips").forEach(clips::add);
        List<MediaSource> videos = new ArrayList<>();
        for (JsonNode v : c.get("videos")) {
            // the video's own track is the first clip (the fixtures put the video before any separate clip)
            JsonNode track = inVideo ? clips.remove(0) : null;
            videos.add(MediaSource.ofPath(OmniTesting.video(dir, v.get(0).asInt(), v.get(1).asInt(), v.get(2).asInt(),
                    v.get(3).asInt(), track == null ? 0 : track.get(0).asInt(), track == null ? 0 : track.get(1).asInt())
                    .toString()));
        }
        List<MediaSource> audio = new ArrayList<>();
        for (JsonNode a : clips) {
            audio.add(MediaSource.ofPath(OmniTesting.wav(dir, a.get(0).asInt(), a.get(1).asInt()).toString()));
        }
        ProcessorKwargs kwargs = inVideo ? new ProcessorKwargs(Map.of("use_audio_in_video", true)) : ProcessorKwargs.NONE;
        MultimodalProcessor p = new MultimodalProcessor(model, new ProcessorCache(64L << 20), MediaLimits.defaults());
        return p.build(null, new PromptInput(c.get("prompt").asText(), null, false, null, images, audio, videos, kwargs),
                sampling);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"audio", "audio_long", "image", "video", "mixed_audio_in_video", "audio_outlasts_video",
        "video_outlasts_audio"})
    void matchesTransformers(String name) throws Exception {
        JsonNode c = OmniTesting.fixtureCase(name);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(c.get("greedy_tokens").size())
                .ignoreEos(true).build();
        EngineRequest r = request(model, c, dir.resolve(name), greedy);
        int[] ids = r.promptTokenIds();
        assertThat(ids).as("expanded prompt ids").containsExactly(OmniTesting.ints(c.get("input_ids")));

        Qwen25OmniModel omni = (Qwen25OmniModel) model.model();
        RequestPositions positions = omni.positions(ids, r.media());
        int[][] got = new int[3][ids.length];
        positions.fill(0, ids.length, got, 0);
        for (int s = 0; s < 3; s++) {
            assertThat(got[s]).as("TMRoPE section %d", s).containsExactly(OmniTesting.ints(c.get("position_ids").get(s)));
        }
        assertThat(positions.delta()).as("rope delta").isEqualTo(c.get("rope_delta").asInt());

        double worst = 0;
        List<float[]> audioRows = new ArrayList<>();
        List<JsonNode> visionFx = new ArrayList<>();
        if (c.has("vision_tower")) {
            c.get("vision_tower").forEach(visionFx::add);
        }
        int clip = 0;
        int vision = 0;
        for (MediaInput m : r.media()) {
            if (m.item().tensors().containsKey(Qwen25OmniProcessor.INPUT_FEATURES)) {
                int frames = m.item().tensor(Qwen25OmniProcessor.FEATURE_FRAMES).ints()[0];
                assertThat(frames).as("feature mask sum").isEqualTo(c.get("feature_mask_sums").get(clip).asInt());
                worst = Math.max(worst, spaced(m.item().tensor(Qwen25OmniProcessor.INPUT_FEATURES).data(),
                        c.get("features").get(clip), FEATURE_TOLERANCE, name + " features " + clip));
                try (Tensor a = omni.encodeAudio(m.item())) {
                    audioRows.add(backend.download(a));
                }
                clip++;
            }
            if (m.item().tensors().containsKey(Qwen25OmniProcessor.GRID_THW)) {
                int[] g = m.item().tensor(Qwen25OmniProcessor.GRID_THW).ints();
                JsonNode want = c.get(m.modality().equals("video") ? "video_grid_thw" : "image_grid_thw").get(0);
                assertThat(g).as("grid").containsExactly(OmniTesting.ints(want));
                try (Tensor v = omni.encodeVision(m.item())) {
                    JsonNode fx = visionFx.get(vision++);
                    float[] rows = backend.download(v);
                    worst = Math.max(worst, rows(rows, v.cols(), fx.get("rows"), name + " vision"));
                    worst = Math.max(worst, spaced(rows, fx.get("spaced"), TOLERANCE, name + " vision"));
                }
            }
        }
        assertThat(vision).isEqualTo(visionFx.size());
        if (c.has("audio_tower")) {
            int total = audioRows.stream().mapToInt(a -> a.length).sum();
            float[] all = new float[total];
            int at = 0;
            for (float[] a : audioRows) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            int width = model.model().languageModel().config().hiddenSize();
            worst = Math.max(worst, rows(all, width, c.get("audio_tower").get("rows"), name + " audio tower"));
            worst = Math.max(worst, spaced(all, c.get("audio_tower").get("spaced"), TOLERANCE, name + " audio tower"));
        }

        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        worst = Math.max(worst, close(naive.lastLogits(new int[] {ids[0]}, List.of()), c.get("first_logits"),
                name + " first logits"));
        worst = Math.max(worst, close(naive.lastLogits(ids, r.media()), c.get("last_logits"), name + " last logits"));
        assertThat(naive.generate(ids, r.media(), greedy).tokenIds()).as("greedy tokens")
                .containsExactly(OmniTesting.ints(c.get("greedy_tokens")));
        System.out.printf(Locale.ROOT, "Qwen2.5-Omni %s vs transformers: %d prompt tokens, worst |diff| %.3g%n",
                name, ids.length, worst);
    }

    /** The scalar reference backend (the kernels' oracle) on the same cases: HF's last logits and tokens. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"audio", "image", "mixed_audio_in_video"})
    void theReferenceBackendAgreesToo(String name) throws Exception {
        JsonNode c = OmniTesting.fixtureCase(name);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(c.get("greedy_tokens").size())
                .ignoreEos(true).build();
        try (Backend ref = Backends.open("cpu-reference", 2); LoadedModel m = LoadedModel.open(OmniTesting.CKPT, ref)) {
            EngineRequest r = request(m, c, dir.resolve("ref-" + name), greedy);
            NaiveGenerator naive = new NaiveGenerator(m.model(), new HashSet<>(m.eosTokenIds()));
            double worst = close(naive.lastLogits(r.promptTokenIds(), r.media()), c.get("last_logits"),
                    name + " last logits (cpu-reference)");
            assertThat(naive.generate(r.promptTokenIds(), r.media(), greedy).tokenIds())
                    .containsExactly(OmniTesting.ints(c.get("greedy_tokens")));
            System.out.printf(Locale.ROOT, "Qwen2.5-Omni %s on cpu-reference vs transformers: last logits |diff| %.3g%n",
                    name, worst);
        }
    }

    private static double rows(float[] got, int width, JsonNode want, String what) {
        double worst = 0;
        var it = want.fields();
        while (it.hasNext()) {
            var e = it.next();
            int row = Integer.parseInt(e.getKey());
            for (int j = 0; j < width; j++) {
                worst = Math.max(worst, check(got[row * width + j], e.getValue().get(j).asDouble(), TOLERANCE,
                        what + " row " + row + " col " + j));
            }
        }
        return worst;
    }

    private static double spaced(float[] got, JsonNode want, double tol, String what) {
        int size = 1;
        for (JsonNode d : want.get("shape")) {
            size *= d.asInt();
        }
        assertThat(got).as(what + " size").hasSize(size);
        double worst = 0;
        for (int k = 0; k < want.get("index").size(); k++) {
            int i = want.get("index").get(k).asInt();
            worst = Math.max(worst, check(got[i], want.get("value").get(k).asDouble(), tol, what + " [" + i + "]"));
        }
        return worst;
    }

    private static double close(float[] got, JsonNode want, String what) {
        assertThat(got).as(what).hasSize(want.size());
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, check(got[i], want.get(i).asDouble(), TOLERANCE, what + " " + i));
        }
        return worst;
    }

    private static double check(double got, double want, double tol, String what) {
        double diff = Math.abs(got - want);
        assertThat(diff).as("%s: got %s, transformers %s", what, got, want).isLessThanOrEqualTo(tol);
        return diff;
    }
}
