package io.sparkmm.engine.fakevision;

import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.prompt.PlaceholderRange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A family from the test class path (this package plus one services line) runs end to end: its
 * processor expands each image into start, rows of patches each followed by a newline, and end
 * (only the patches embedded); its sectioned positions drive the rope; the paged engine (batched,
 * chunked, prefix-cached) gives the naive oracle's tokens.
 */
class FakeVisionFamilyTest {

    @TempDir
    static Path dir;
    static LoadedModel model;
    static FakeVisionFamily.FakeVisionConfig config;
    static List<Path> images = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        Path ckpt = new FakeVisionFamily().writeTinyCheckpoint(dir.resolve("model"), "fake-vision", io.sparkmm.kernels.DType.F32, 5L);
        model = EngineSession.loadModel(ckpt.toString(), "cpu");
        config = ((FakeVisionModel) model.model()).configForTest();
        // width x height in 8 px patches: 2x2, 3x2, 1x4, 4x1, and a 7-column one the encoder refuses
        int[][] sizes = {{16, 16}, {24, 16}, {8, 32}, {32, 8}, {56, 8}};
        Random rnd = new Random(9);
        for (int i = 0; i < sizes.length; i++) {
            BufferedImage img = new BufferedImage(sizes[i][0], sizes[i][1], BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, rnd.nextInt(1 << 24));
                }
            }
            Path f = dir.resolve("img" + i + ".png");
            ImageIO.write(img, "png", f.toFile());
            images.add(f);
        }
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    @Test
    void theFamilyIsFoundByItsArchitecture() {
        assertThat(model.family().name()).isEqualTo("fake-vision");
        assertThat(ModelFamilies.all()).extracting(f -> f.name()).contains("fake-vision", "llava", "text");
        try (Checkpoint c = Checkpoint.open(dir.resolve("model"))) {
            assertThat(ModelFamilies.forCheckpoint(c)).isInstanceOf(FakeVisionFamily.class);
        }
    }

    @Test
    void aPlaceholderBecomesStartRowsWithNewlinesAndEndWithOnlyPatchesEmbedded() {
        try (EngineSession s = EngineSession.over(model, EngineOptions.defaults(), new ProcessorCache(1 << 20))) {
            int[] prompt = {11, config.imageToken(), 12};
            EngineRequest r = s.requests().build("r", new PromptInput(null, prompt, false, null,
                    List.of(MediaSource.ofPath(images.get(1).toString())), List.of(), List.of()), SamplingParams.greedy(1));
            int f = config.imageToken();
            int nl = config.newlineToken();
            // a 24x16 image: 2 rows of 3 patches
            assertThat(r.promptTokenIds()).containsExactly(11, config.startToken(), f, f, f, nl, f, f, f, nl,
                    config.endToken(), 12);
            MediaInput m = r.media().get(0);
            assertThat(m.placeholder()).isEqualTo(new PlaceholderRange(1, 10,
                    new boolean[] {false, true, true, true, false, true, true, true, false, false}));
            assertThat(m.numEmbeddings()).isEqualTo(6);
            // positions by hand: text 11 at 0, start at 1; patches at (2, 2 + r, 2 + c); the first
            // row's newline takes the text counter (2) without moving the patches' base; after the
            // last patch the counter is max(3, 2 + max(2, 3)) = 5: the last newline at 5, end at 6,
            // text 12 at 7, and the first generated token at 8 (rope delta 8 - 12 = -4)
            RequestPositions pos = model.model().positions(r.promptTokenIds(), r.media());
            int[][] got = new int[3][12];
            pos.fill(0, 12, got, 0);
            assertThat(got[0]).containsExactly(0, 1, 2, 2, 2, 2, 2, 2, 2, 5, 6, 7);
            assertThat(got[1]).containsExactly(0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 6, 7);
            assertThat(got[2]).containsExactly(0, 1, 2, 3, 4, 2, 2, 3, 4, 5, 6, 7);
            assertThat(pos.delta()).isEqualTo(-4);
            int[][] next = new int[3][2];
            pos.fill(12, 2, next, 0);
            for (int[] section : next) {
                assertThat(section).containsExactly(8, 9);
            }
        }
    }

    @Test
    void theEngineMatchesTheNaiveOracleBatchedChunkedAndPrefixCached() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(6).ignoreEos(true).build();
        NaiveGenerator naive = new NaiveGenerator(model.model(), model.eosTokenIds());
        Random rnd = new Random(3);
        for (EngineConfig engineConfig : List.of(EngineConfig.defaults(),
                // a budget smaller than an item: chunks end inside items, between patches and newlines
                EngineConfig.defaults().withMaxNumBatchedTokens(5).withBlockSize(4).withNumKvBlocks(200))) {
            try (EngineSession s = EngineSession.over(model, EngineOptions.defaults().withEngine(engineConfig),
                    new ProcessorCache(1 << 20))) {
                List<EngineRequest> requests = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    List<MediaSource> media = new ArrayList<>();
                    List<Integer> ids = new ArrayList<>(List.of(20 + i, 30));
                    for (int k = 0; k < i % 3; k++) {
                        media.add(MediaSource.ofPath(images.get(rnd.nextInt(4)).toString()));
                        ids.add(config.imageToken());
                        ids.add(40 + k);
                    }
                    requests.add(s.requests().build("r" + i, new PromptInput(null,
                            ids.stream().mapToInt(Integer::intValue).toArray(), false, null, media, List.of(), List.of()), greedy));
                }
                List<RequestHandle> hs = new ArrayList<>();
                for (EngineRequest r : requests) {
                    hs.add(s.engine().submit(r));
                }
                for (int i = 0; i < requests.size(); i++) {
                    EngineResult got = hs.get(i).result().get();
                    assertThat(got.error()).isNull();
                    assertThat(got.tokenIds()).as("request %d, %s", i, engineConfig)
                            .containsExactly(naive.generate(requests.get(i).promptTokenIds(), requests.get(i).media(), greedy).tokenIds());
                }
                // the same request again, alone: its prefix (media included) comes from the cache, tokens unchanged
                EngineRequest again = requests.get(5);
                EngineResult second = s.engine().submit(again).result().get();
                assertThat(second.cachedTokens()).isGreaterThan(0);
                assertThat(second.tokenIds()).containsExactly(hs.get(5).result().get().tokenIds());
            }
        }
    }

    @Test
    void theSectionedPositionsAreInEffect() throws Exception {
        // the same weights (same seed) with 1-D positions
        Path linear = FakeVisionFamily.rewriteConfig(io.sparkmm.engine.models.text.TinyCheckpoint.write(dir.resolve("linear"),
                io.sparkmm.engine.models.text.TinyCheckpoint.Spec.llamaGqa().withSeed(5)), true);
        try (LoadedModel plain = EngineSession.loadModel(linear.toString(), "cpu");
             EngineSession s = EngineSession.over(model, EngineOptions.defaults(), new ProcessorCache(1 << 20));
             EngineSession p = EngineSession.over(plain, EngineOptions.defaults(), new ProcessorCache(1 << 20))) {
            PromptInput in = new PromptInput(null, new int[] {7, config.imageToken(), 8}, false, null,
                    List.of(MediaSource.ofPath(images.get(0).toString())), List.of(), List.of());
            EngineRequest a = s.requests().build("a", in, SamplingParams.greedy(1));
            EngineRequest b = p.requests().build("b", in, SamplingParams.greedy(1));
            assertThat(a.promptTokenIds()).containsExactly(b.promptTokenIds());
            float[] sectioned = new NaiveGenerator(model.model(), model.eosTokenIds()).lastLogits(a.promptTokenIds(), a.media());
            float[] oneD = new NaiveGenerator(plain.model(), plain.eosTokenIds()).lastLogits(b.promptTokenIds(), b.media());
            assertThat(sectioned).isNotEqualTo(oneD);
        }
    }

    @Test
    void anItemWhoseEncoderFailsFailsOnlyTheRequestsThatOwnIt() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(3).ignoreEos(true).build();
        try (EngineSession s = EngineSession.over(model, EngineOptions.defaults(), new ProcessorCache(1 << 20))) {
            MediaSource bad = MediaSource.ofPath(images.get(4).toString());
            MediaSource good = MediaSource.ofPath(images.get(0).toString());
            int[] prompt = {5, config.imageToken(), 6};
            List<RequestHandle> hs = new ArrayList<>();
            for (MediaSource m : List.of(bad, good, bad, good)) {
                hs.add(s.engine().submit(s.requests().build(null, new PromptInput(null, prompt, false, null, List.of(m),
                        List.of(), List.of()), greedy)));
            }
            assertThat(hs.get(0).result().get().error()).contains("refuses 7-column images").contains("image encoder failed");
            assertThat(hs.get(2).result().get().error()).contains("refuses 7-column images");
            assertThat(hs.get(1).result().get().ok()).isTrue();
            assertThat(hs.get(3).result().get().tokenIds()).containsExactly(hs.get(1).result().get().tokenIds());
        }
    }

    @Test
    void aProcessorSettingChangesTheItemAndKeysTheCache() {
        ProcessorCache cache = new ProcessorCache(1 << 20);
        try (EngineSession s = EngineSession.over(model, EngineOptions.defaults(), cache)) {
            PromptInput in = new PromptInput(null, new int[] {7, config.imageToken(), 8}, false, null,
                    List.of(MediaSource.ofPath(images.get(0).toString())), List.of(), List.of());
            ProcessorKwargs coarse = new ProcessorKwargs(java.util.Map.of("patch_size", 16));
            EngineRequest plain = s.requests().build("a", in, SamplingParams.greedy(1));
            EngineRequest big = s.requests().build("b", in.withProcessorKwargs(coarse), SamplingParams.greedy(1));
            EngineRequest bigAgain = s.requests().build("c", in.withProcessorKwargs(
                    new ProcessorKwargs(java.util.Map.of("patch_size", 16))), SamplingParams.greedy(1));
            // a 16x16 image: 2x2 patches of 8 px, 1x1 of 16 px
            assertThat(plain.media().get(0).tensor("grid").ints()).containsExactly(2, 2);
            assertThat(big.media().get(0).tensor("grid").ints()).containsExactly(1, 1);
            assertThat(big.promptTokenIds()).hasSize(2 + 2 + 2);
            assertThat(big.media().get(0).hash()).isNotEqualTo(plain.media().get(0).hash());
            assertThat(bigAgain.media().get(0).hash()).isEqualTo(big.media().get(0).hash());
            assertThat(cache.misses()).isEqualTo(2);
            assertThat(cache.hits()).isEqualTo(1);
            // the engine runs the coarse item (its encoder rows follow the 1x1 grid)
            assertThat(s.engine().submit(big).result().join().ok()).isTrue();
            assertThatThrownBy(() -> s.requests().build("d", in.withProcessorKwargs(
                    new ProcessorKwargs(java.util.Map.of("max_pixels", 100))), SamplingParams.greedy(1)))
                    .hasMessageContaining("\"max_pixels\"").hasMessageContaining("it takes patch_size");
        }
    }
}
