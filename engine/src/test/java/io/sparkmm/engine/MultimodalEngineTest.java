package io.sparkmm.engine;

import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
import io.sparkmm.engine.models.llava.LlavaModel;
import io.sparkmm.engine.models.llava.LlavaTesting;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.prompt.PlaceholderRange;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * LLaVA through the paged engine against the naive multimodal generator: one and several images
 * per prompt, chunked prefill cutting through image runs, prefix hits, and one image shared by
 * several prompts (encoded once). Pixel values are random: the processor is tested on its own.
 */
class MultimodalEngineTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;
    static int perImage;
    static int imageToken;
    static int pixels;

    @BeforeAll
    static void load() {
        TinyLlavaCheckpoint.write(dir, TinyLlavaCheckpoint.Spec.llama());
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(dir, backend);
        perImage = ((LlavaModel) model.model()).imageTokensPerImage();
        imageToken = ((LlavaModel) model.model()).imageTokenId();
        var vc = ((LlavaModel) model.model()).config().visionConfig();
        pixels = vc.numChannels() * vc.imageSize() * vc.imageSize();
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    /** A prompt: text, then for each image a run of placeholders followed by more text. */
    private record Prompt(int[] ids, List<MediaInput> media, List<float[]> images) {
    }

    private static float[] image(long seed) {
        Random r = new Random(seed);
        float[] p = new float[pixels];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) r.nextGaussian();
        }
        return p;
    }

    private static Prompt prompt(Random rnd, int prefix, long[] imageSeeds, int suffix) {
        List<Integer> ids = new ArrayList<>();
        List<MediaInput> media = new ArrayList<>();
        List<float[]> images = new ArrayList<>();
        for (int i = 0; i < prefix; i++) {
            ids.add(3 + i % 50);
        }
        for (long seed : imageSeeds) {
            float[] px = image(seed);
            media.add(LlavaTesting.image("img-" + seed, ids.size(), perImage, px));
            images.add(px);
            for (int i = 0; i < perImage; i++) {
                ids.add(imageToken);
            }
            int between = 1 + rnd.nextInt(5);
            for (int i = 0; i < between; i++) {
                ids.add(10 + rnd.nextInt(300));
            }
        }
        for (int i = 0; i < suffix; i++) {
            ids.add(10 + rnd.nextInt(300));
        }
        return new Prompt(ids.stream().mapToInt(Integer::intValue).toArray(), media, images);
    }

    @Test
    void tokensEqualTheNaivePathWithOneAndSeveralImagesChunkedAndCached() throws Exception {
        Random rnd = new Random(1);
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            int n = i % 3; // 0, 1 or 2 images
            long[] seeds = new long[n];
            for (int j = 0; j < n; j++) {
                seeds[j] = rnd.nextInt(4); // few distinct images: shared across prompts
            }
            prompts.add(prompt(rnd, i % 2 == 0 ? 20 : 3, seeds, rnd.nextInt(6)));
        }
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(6).ignoreEos(true).build();
        LlavaModel llava = (LlavaModel) model.model();
        for (EngineConfig config : List.of(
                EngineConfig.defaults(),
                // budget smaller than an image run: chunks end inside and before image runs
                EngineConfig.defaults().withMaxNumBatchedTokens(Math.max(perImage, 8) + 3).withBlockSize(4).withNumKvBlocks(80))) {
            List<RequestHandle> hs = new ArrayList<>();
            EngineMetrics m;
            try (Engine engine = new Engine(model, config)) {
                for (Prompt p : prompts) {
                    hs.add(engine.submit(new EngineRequest(null, p.ids(), greedy, null, p.media())));
                }
                for (RequestHandle h : hs) {
                    h.result().get();
                }
                m = engine.metrics();
            }
            for (int i = 0; i < prompts.size(); i++) {
                EngineResult r = hs.get(i).result().get();
                assertThat(r.error()).as("prompt %d", i).isNull();
                assertThat(r.tokenIds()).as("prompt %d with %d images", i, prompts.get(i).images().size())
                        .containsExactly(LlavaTesting.generate(llava, model.eosTokenIds(), prompts.get(i).ids(), prompts.get(i).images(), greedy).tokenIds());
            }
            // 4 distinct images among ~24 items: most encodings are reused
            assertThat(m.encoderRuns()).isLessThan(24);
            assertThat(m.encoderRuns()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void threeQuestionsOnOneImageEncodeItOnceAndShareItsPrefix() throws Exception {
        Random rnd = new Random(2);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(4).ignoreEos(true).build();
        try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(4))) {
            List<EngineResult> results = new ArrayList<>();
            for (int q = 0; q < 3; q++) {
                Prompt p = prompt(rnd, 8, new long[] {42}, 3 + q);
                // one at a time, so the second and third find the first's blocks and encoder output
                results.add(engine.submit(new EngineRequest(null, p.ids(), greedy, null, p.media())).result().get());
            }
            EngineMetrics m = engine.metrics();
            assertThat(m.encoderRuns()).isEqualTo(1);
            assertThat(results.get(2).cachedTokens()).isGreaterThanOrEqualTo(8);
        }
    }

    @Test
    void differentImagesAtTheSamePositionsNeverShareCachedBlocks() throws Exception {
        Random rnd = new Random(3);
        Prompt a = prompt(rnd, 8, new long[] {7}, 4);
        Prompt b = new Prompt(a.ids(), List.of(LlavaTesting.image("img-8", a.media().get(0).offset(), perImage, image(8))),
                List.of(image(8)));
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(6).ignoreEos(true).build();
        LlavaModel llava = (LlavaModel) model.model();
        try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(4))) {
            engine.submit(new EngineRequest(null, a.ids(), greedy, null, a.media())).result().get();
            EngineResult rb = engine.submit(new EngineRequest(null, b.ids(), greedy, null, b.media())).result().get();
            assertThat(rb.tokenIds()).containsExactly(LlavaTesting.generate(llava, model.eosTokenIds(), b.ids(), b.images(), greedy).tokenIds());
            // only the text before the image can be shared
            assertThat(rb.cachedTokens()).isLessThanOrEqualTo(a.media().get(0).offset());
        }
    }

    @Test
    void badMediaFailsOnlyItsRequest() throws Exception {
        Random rnd = new Random(4);
        Prompt good = prompt(rnd, 5, new long[] {1}, 2);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(3).ignoreEos(true).build();
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            RequestHandle wrongSize = engine.submit(new EngineRequest(null, good.ids(), greedy, null,
                    List.of(LlavaTesting.image("x", good.media().get(0).offset(), perImage, new float[7]))));
            RequestHandle audio = engine.submit(new EngineRequest(null, good.ids(), greedy, null,
                    List.of(new MediaInput(ProcessedItem.of("y", "audio", "input_features", new ItemTensor(new float[pixels], new int[] {pixels})), new PlaceholderRange(good.media().get(0).offset(), perImage)))));
            RequestHandle ok = engine.submit(new EngineRequest(null, good.ids(), greedy, null, good.media()));
            assertThat(wrongSize.result().get().error()).contains("pixel values");
            assertThat(audio.result().get().error()).contains("audio");
            assertThat(ok.result().get().ok()).isTrue();
        }
    }
}
