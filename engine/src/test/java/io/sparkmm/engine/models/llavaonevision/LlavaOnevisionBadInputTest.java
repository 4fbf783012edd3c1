package io.sparkmm.engine.models.llavaonevision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlTesting;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Odd LLaVA-OneVision input gets HF's answer or a clear error on its own request, never a crash: a
 * one-frame video, images of 1x1, 20000x20 and 20x20000 (token counts from transformers' processor),
 * an image or a video too long for the context, a frame setting that is not a number, placeholders
 * without media. The engine keeps serving the other requests.
 */
class LlavaOnevisionBadInputTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;
    static LoadedModel shortContext;
    static final SamplingParams GREEDY = SamplingParams.builder().temperature(0).maxTokens(3).ignoreEos(true).build();

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(TinyLlavaOnevisionCheckpoint.write(dir.resolve("ov"),
                TinyLlavaOnevisionCheckpoint.Spec.defaults()), backend);
        shortContext = LoadedModel.open(TinyLlavaOnevisionCheckpoint.write(dir.resolve("short"),
                TinyLlavaOnevisionCheckpoint.Spec.defaults().withMaxPositionEmbeddings(24)), backend);
    }

    @AfterAll
    static void close() {
        model.close();
        shortContext.close();
        backend.close();
    }

    private static EngineRequest request(LoadedModel m, String text, List<MediaSource> images, List<MediaSource> videos,
                                         ProcessorKwargs kwargs) {
        MultimodalProcessor p = new MultimodalProcessor(m, new ProcessorCache(16L << 20), MediaLimits.defaults());
        return p.build(null, new PromptInput(text, null, false, null, images, List.of(), videos, kwargs), GREEDY);
    }

    @Test
    void extremeImageSizesGetTransformersTokenCountsAndAnswers() throws Exception {
        JsonNode counts;
        try (InputStream in = getClass().getResourceAsStream("/llava_onevision/video_fixtures.json")) {
            counts = new ObjectMapper().readTree(in).get("lone_image_tokens");
        }
        assertThat(counts).hasSizeGreaterThanOrEqualTo(3);
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            for (JsonNode c : counts) {
                int w = c.get("width").asInt();
                int h = c.get("height").asInt();
                EngineRequest r = request(model, "<image> what", List.of(Qwen2VlTesting.image(w, h, 4)), List.of(),
                        ProcessorKwargs.NONE);
                assertThat(r.media().get(0).length()).as("%dx%d image tokens", w, h).isEqualTo(c.get("tokens").asInt());
                EngineResult res = engine.submit(r).result().get();
                assertThat(res.error()).as("%dx%d", w, h).isNull();
                assertThat(res.tokenIds()).hasSize(3);
            }
        }
    }

    @Test
    void aOneFrameVideoIsOneFramesFeaturesAndANewline() throws Exception {
        Path one = Qwen2VlTesting.ffmpeg(dir.resolve("one.mp4"), "testsrc=size=64x48:rate=1:duration=1", "-pix_fmt", "yuv420p");
        EngineRequest r = request(model, "<video> what", List.of(), List.of(MediaSource.ofPath(one.toString())),
                ProcessorKwargs.NONE);
        assertThat(r.media().get(0).tensor(LlavaOnevisionProcessor.PIXEL_VALUES_VIDEOS).shape()).containsExactly(1, 3, 42, 42);
        assertThat(r.media().get(0).length()).isEqualTo(4 + 1);
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            assertThat(engine.submit(r).result().get().ok()).isTrue();
        }
    }

    @Test
    void anImageOrVideoLongerThanTheContextFailsItsRowOnly() throws Exception {
        Path clip = Qwen2VlTesting.ffmpeg(dir.resolve("ten.mp4"), "testsrc=size=64x48:rate=10:duration=1", "-pix_fmt", "yuv420p");
        // 400x300 alone: 27 image tokens (HF's count above); ten frames: 10 * 4 + 1 = 41 tokens; context 24
        EngineRequest bigImage = request(shortContext, "<image> what", List.of(Qwen2VlTesting.image(400, 300, 1)),
                List.of(), ProcessorKwargs.NONE);
        assertThat(bigImage.media().get(0).length()).isEqualTo(27);
        EngineRequest longVideo = request(shortContext, "<video> what", List.of(),
                List.of(MediaSource.ofPath(clip.toString())), ProcessorKwargs.NONE);
        assertThat(longVideo.media().get(0).length()).isEqualTo(41);
        EngineRequest fewer = request(shortContext, "<video> what", List.of(),
                List.of(MediaSource.ofPath(clip.toString())), new ProcessorKwargs(Map.of("num_frames", 2)));
        assertThat(fewer.media().get(0).length()).isEqualTo(2 * 4 + 1);
        try (Engine engine = new Engine(shortContext, EngineConfig.defaults())) {
            RequestHandle a = engine.submit(bigImage);
            RequestHandle b = engine.submit(longVideo);
            RequestHandle c = engine.submit(fewer);
            assertThat(errorOf(a)).contains("context holds 24");
            assertThat(errorOf(b)).contains("context holds 24");
            assertThat(c.result().get().ok()).isTrue();
        }
    }

    @Test
    void badFrameSettingsAndMissingMediaNameTheProblem() {
        Path clip = Qwen2VlTesting.ffmpeg(dir.resolve("c.mp4"), "testsrc=size=64x48:rate=4:duration=1", "-pix_fmt", "yuv420p");
        MediaSource v = MediaSource.ofPath(clip.toString());
        assertThatThrownBy(() -> request(model, "<video>", List.of(), List.of(v), new ProcessorKwargs(Map.of("num_frames", 2.5))))
                .hasMessageContaining("num_frames").hasMessageContaining("positive integer");
        assertThatThrownBy(() -> request(model, "<video>", List.of(), List.of(v),
                new ProcessorKwargs(Map.of("num_frames", 4, "fps", 2)))).hasMessageContaining("not both");
        assertThatThrownBy(() -> request(model, "<video>", List.of(), List.of(v), new ProcessorKwargs(Map.of("multi_image", true))))
                .hasMessageContaining("\"multi_image\"").hasMessageContaining("fps, num_frames");
        assertThatThrownBy(() -> request(model, "<video> and <video>", List.of(), List.of(v), ProcessorKwargs.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2").hasMessageContaining("1");
        Path audioOnly = Qwen2VlTesting.ffmpeg(dir.resolve("sound-only.mp4"), "sine=frequency=440:duration=1");
        assertThatThrownBy(() -> request(model, "<video>", List.of(), List.of(MediaSource.ofPath(audioOnly.toString())),
                ProcessorKwargs.NONE)).hasMessageContaining("sound-only.mp4");
    }

    @Test
    void aLongVideoGivesVllmsThirtyTwoUniformFramesUnlessTheRequestSaysOtherwise() {
        Path clip = Qwen2VlTesting.ffmpeg(dir.resolve("forty.mp4"), "testsrc=size=64x48:rate=20:duration=2", "-pix_fmt", "yuv420p");
        MediaSource v = MediaSource.ofPath(clip.toString());
        EngineRequest r = request(model, "<video>", List.of(), List.of(v), ProcessorKwargs.NONE);
        assertThat(r.media().get(0).tensor(LlavaOnevisionProcessor.PIXEL_VALUES_VIDEOS).shape()[0]).isEqualTo(32);
        assertThat(r.media().get(0).length()).isEqualTo(32 * 4 + 1);
        EngineRequest eight = request(model, "<video>", List.of(), List.of(v), new ProcessorKwargs(Map.of("num_frames", 8)));
        assertThat(eight.media().get(0).length()).isEqualTo(8 * 4 + 1);
        assertThat(eight.media().get(0).hash()).isNotEqualTo(r.media().get(0).hash());
    }

    @Test
    void fpsSamplingKeepsEveryNthFrame() {
        Path clip = Qwen2VlTesting.ffmpeg(dir.resolve("f.mp4"), "testsrc=size=64x48:rate=10:duration=1", "-pix_fmt", "yuv420p");
        EngineRequest r = request(model, "<video>", List.of(), List.of(MediaSource.ofPath(clip.toString())),
                new ProcessorKwargs(Map.of("fps", 2.5)));
        // every round(10 / 2.5) = 4th of 10 frames: 0, 4, 8
        assertThat(r.media().get(0).tensor(LlavaOnevisionProcessor.PIXEL_VALUES_VIDEOS).shape()[0]).isEqualTo(3);
    }

    private static String errorOf(RequestHandle h) throws InterruptedException {
        try {
            EngineResult r = h.result().get();
            assertThat(r.ok()).as("the request should have failed").isFalse();
            return r.error();
        } catch (ExecutionException e) {
            return e.getCause().getMessage();
        }
    }
}
