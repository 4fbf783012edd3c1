package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Bad Qwen2-VL input fails with a clear message on its own request; the engine keeps serving the
 * others.
 */
class Qwen2VlBadInputTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;
    static MultimodalProcessor processor;
    static final SamplingParams GREEDY = SamplingParams.builder().temperature(0).maxTokens(3).ignoreEos(true).build();

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        // a short context, so an allowed but large image overflows it
        var spec = TinyQwen2VlCheckpoint.Spec.qwen2Vl();
        spec = spec.withText(new io.sparkmm.engine.models.text.TinyCheckpoint.Spec(spec.text().architecture(),
                spec.text().hiddenSize(), spec.text().intermediateSize(), spec.text().numLayers(), spec.text().numHeads(),
                spec.text().numKvHeads(), false, spec.text().dtype(), spec.text().seed(), 512, 10000.0, null));
        model = LoadedModel.open(TinyQwen2VlCheckpoint.write(dir, spec), backend);
        processor = Qwen2VlTesting.processor(model);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static EngineRequest request(String text, List<MediaSource> images, ProcessorKwargs kwargs) {
        return processor.build(null, new PromptInput(text, null, false, null, images, List.of(), List.of(), kwargs), GREEDY);
    }

    @Test
    void anImageTooThinForThePatchGridNamesTheAspectRatio() {
        assertThatThrownBy(() -> request("a " + Qwen2VlTesting.IMAGE, List.of(Qwen2VlTesting.image(1, 300, 1)),
                ProcessorKwargs.NONE)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("aspect ratio");
    }

    @Test
    void aVideoWithNoPicturesIsAnErrorNamingTheFile() {
        Path audioOnly = Qwen2VlTesting.ffmpeg(dir.resolve("sound-only.mp4"), "sine=frequency=440:duration=1");
        assertThatThrownBy(() -> processor.build(null, new PromptInput("a " + Qwen2VlTesting.VIDEO, null, false, null,
                List.of(), List.of(), List.of(MediaSource.ofPath(audioOnly.toString())), ProcessorKwargs.NONE), GREEDY))
                .hasMessageContaining("sound-only.mp4").hasMessageContaining("no video stream");
    }

    @Test
    void morePadsThanImagesIsAnErrorNamingTheCounts() {
        assertThatThrownBy(() -> request(Qwen2VlTesting.IMAGE + " and " + Qwen2VlTesting.IMAGE,
                List.of(Qwen2VlTesting.image(60, 40, 1)), ProcessorKwargs.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2").hasMessageContaining("1");
    }

    @Test
    void tokenPromptsWithStrayPadsAreRejectedWhenSubmitted() throws Exception {
        EngineRequest good = request("a " + Qwen2VlTesting.IMAGE, List.of(Qwen2VlTesting.image(60, 40, 1)), ProcessorKwargs.NONE);
        int[] ids = good.promptTokenIds().clone();
        // 60x40 is below min_pixels 56*56: smart_resize scales up to 84x56 -> (6, 4) patches -> 6 tokens;
        // one more pad token than that grid covers
        int[] stray = java.util.Arrays.copyOf(ids, ids.length + 1);
        stray[ids.length] = TinyQwen2VlCheckpoint.IMAGE_PAD_ID;
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            assertThat(errorOf(engine.submit(new EngineRequest(null, stray, GREEDY, null, good.media()))))
                    .contains("the prompt has 7 image tokens but the 1 image grids need 6");
            assertThat(engine.submit(good).result().get().ok()).isTrue();
        }
    }

    @Test
    void aGridOverTheContextLengthFailsItsRowOnly() throws Exception {
        // 448x448 pixels allowed per request: 256 tokens per image, two images overflow 512 positions
        ProcessorKwargs big = new ProcessorKwargs(Map.of("min_pixels", 448 * 448, "max_pixels", 448 * 448));
        EngineRequest huge = request(Qwen2VlTesting.IMAGE + Qwen2VlTesting.IMAGE + "x",
                List.of(Qwen2VlTesting.image(60, 40, 1), Qwen2VlTesting.image(60, 41, 2)), big);
        EngineRequest ok = request("a " + Qwen2VlTesting.IMAGE, List.of(Qwen2VlTesting.image(60, 40, 1)), ProcessorKwargs.NONE);
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            RequestHandle bad = engine.submit(huge);
            RequestHandle good = engine.submit(ok);
            assertThat(errorOf(bad)).contains("context holds 512");
            assertThat(good.result().get().ok()).isTrue();
        }
    }

    /** The request's error, whether the engine reports it as a failed result or a failed future. */
    private static String errorOf(RequestHandle h) throws InterruptedException {
        try {
            EngineResult r = h.result().get();
            assertThat(r.ok()).as("the request should have failed").isFalse();
            return r.error();
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause().getMessage();
        }
    }

    @Test
    void unknownProcessorSettingsNameTheKeyAndTheAcceptedOnes() {
        assertThatThrownBy(() -> request("a " + Qwen2VlTesting.IMAGE, List.of(Qwen2VlTesting.image(60, 40, 1)),
                new ProcessorKwargs(Map.of("max_pixel", 1000))))
                .hasMessageContaining("\"max_pixel\"").hasMessageContaining("do_sample_frames, fps, max_frames, max_pixels, min_frames, min_pixels, num_frames");
    }

    @Test
    void aPixelBudgetChangesTheGridAndIsCachedSeparately() {
        MediaSource img = Qwen2VlTesting.image(200, 140, 3);
        EngineRequest small = request("a " + Qwen2VlTesting.IMAGE, List.of(img),
                new ProcessorKwargs(Map.of("max_pixels", 56 * 56)));
        EngineRequest normal = request("a " + Qwen2VlTesting.IMAGE, List.of(img), ProcessorKwargs.NONE);
        // smart_resize by hand: 200x140 fits in 448^2, rounds to 196x140 -> (14, 10) patches -> 35 tokens;
        // at 56*56 pixels max: beta = sqrt(28000/3136), floor(140/beta/28)*28 = 28, floor(200/beta/28)*28 = 56 -> 2 tokens
        assertThat(normal.media().get(0).length()).isEqualTo(35);
        assertThat(small.media().get(0).length()).isEqualTo(2);
        assertThat(small.media().get(0).hash()).isNotEqualTo(normal.media().get(0).hash());
    }
}
