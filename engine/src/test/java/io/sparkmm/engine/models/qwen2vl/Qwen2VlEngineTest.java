package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.EngineVsNaive;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Qwen2-VL and Qwen2.5-VL through the paged engine against the naive generator (full recompute,
 * no cache, no chunks): images of different sizes, 1 to 3 per request, chunked prefill cutting
 * through image runs, prefix hits ending inside and right after images, and preemption. Both use
 * M-RoPE; a wrong position anywhere in a chunk or after a prefix hit changes the tokens.
 */
class Qwen2VlEngineTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel qwen2;
    static LoadedModel qwen25;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        qwen2 = LoadedModel.open(TinyQwen2VlCheckpoint.write(dir.resolve("q2"), TinyQwen2VlCheckpoint.Spec.qwen2Vl()), backend);
        qwen25 = LoadedModel.open(TinyQwen2VlCheckpoint.write(dir.resolve("q25"), TinyQwen2VlCheckpoint.Spec.qwen25Vl()), backend);
    }

    @AfterAll
    static void close() {
        qwen2.close();
        qwen25.close();
        backend.close();
    }

    private static final int[][] SIZES = {{60, 40}, {100, 70}, {230, 150}, {41, 90}};

    private static List<EngineRequest> requests(LoadedModel model, int count, SamplingParams sampling) {
        MultimodalProcessor p = Qwen2VlTesting.processor(model);
        Random rnd = new Random(11);
        String[] words = {"the cat", "a red car", "describe", "what is in", "the picture", "and the dog"};
        List<EngineRequest> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = 1 + i % 3;
            StringBuilder text = new StringBuilder(i % 2 == 0 ? "Look at this: " : "");
            List<MediaSource> images = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                int[] s = SIZES[rnd.nextInt(SIZES.length)];
                images.add(Qwen2VlTesting.image(s[0], s[1], rnd.nextInt(3)));
                text.append(Qwen2VlTesting.IMAGE).append(words[rnd.nextInt(words.length)]).append(' ');
            }
            text.append(words[i % words.length]);
            out.add(Qwen2VlTesting.request(p, text.toString(), images, List.of(), sampling));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen2-vl", "qwen2.5-vl"})
    void greedyTokensEqualTheNaivePathChunkedCachedAndPreempted(String arch) throws Exception {
        LoadedModel model = arch.equals("qwen2-vl") ? qwen2 : qwen25;
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(5).ignoreEos(true).build();
        List<EngineRequest> reqs = requests(model, 9, greedy);
        List<int[]> expected = EngineVsNaive.expected(model, reqs, greedy);
        int largest = reqs.stream().mapToInt(r -> r.promptTokenIds().length).max().orElseThrow();
        List<EngineConfig> configs = List.of(
                EngineConfig.defaults(),
                // chunks of 13 tokens: boundaries fall inside every image run
                EngineConfig.defaults().withMaxNumBatchedTokens(13).withBlockSize(4).withNumKvBlocks(400),
                // room for about two requests at a time: the others wait or are preempted and recomputed
                EngineConfig.defaults().withMaxNumBatchedTokens(64).withBlockSize(4)
                        .withNumKvBlocks(2 * (largest + 8) / 4 + 2));
        for (EngineConfig config : configs) {
            EngineMetrics metrics = EngineVsNaive.check(model, config, reqs, expected, arch).metrics();
            assertThat(metrics.encoderRuns()).as("distinct images are few, so encodings are shared").isLessThan(18);
            if (config == configs.get(2)) {
                assertThat(metrics.preemptions()).as("preemptions with a tight KV pool").isPositive();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen2-vl", "qwen2.5-vl"})
    void imagesAndVideosTogetherEqualTheNaivePath(String arch) throws Exception {
        LoadedModel model = arch.equals("qwen2-vl") ? qwen2 : qwen25;
        Path clip = Qwen2VlTesting.ffmpeg(dir.resolve(arch + "-clip.mp4"), "testsrc=size=96x64:rate=10:duration=2",
                "-pix_fmt", "yuv420p");
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(5).ignoreEos(true).build();
        MultimodalProcessor p = Qwen2VlTesting.processor(model);
        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        MediaSource video = MediaSource.ofPath(clip.toString());
        List<EngineRequest> reqs = List.of(
                Qwen2VlTesting.request(p, "a " + Qwen2VlTesting.VIDEO + " what happens", List.of(), List.of(video), greedy),
                Qwen2VlTesting.request(p, Qwen2VlTesting.IMAGE + " and " + Qwen2VlTesting.VIDEO + " same?",
                        List.of(Qwen2VlTesting.image(100, 70, 1)), List.of(video), greedy),
                Qwen2VlTesting.request(p, Qwen2VlTesting.VIDEO + " then " + Qwen2VlTesting.IMAGE + " ok",
                        List.of(Qwen2VlTesting.image(60, 40, 2)), List.of(video), greedy));
        // 20 frames at 10 fps sampled at 2 fps: 4 frames, 2 temporal patches; sampled fps 4/20*10 = 2, so 2/2 s per patch
        MediaInput v = reqs.get(0).media().get(0);
        assertThat(v.item().tensor(Qwen2VlProcessor.GRID_THW).ints()[0]).isEqualTo(2);
        assertThat(v.item().tensor(Qwen2VlProcessor.SECOND_PER_GRID_T).data()[0]).isEqualTo(1.0f);
        for (EngineConfig config : List.of(EngineConfig.defaults(),
                EngineConfig.defaults().withMaxNumBatchedTokens(11).withBlockSize(4).withNumKvBlocks(300))) {
            try (Engine engine = new Engine(model, config)) {
                List<RequestHandle> hs = new ArrayList<>();
                for (EngineRequest r : reqs) {
                    hs.add(engine.submit(r));
                }
                for (int i = 0; i < reqs.size(); i++) {
                    EngineResult r = hs.get(i).result().get();
                    assertThat(r.error()).isNull();
                    assertThat(r.tokenIds()).as("%s request %d", arch, i).containsExactly(
                            naive.generate(reqs.get(i).promptTokenIds(), reqs.get(i).media(), greedy).tokenIds());
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void anEncoderCacheThatHoldsEveryImageEncodesEachOnce() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(3).ignoreEos(true).build();
        MultimodalProcessor p = Qwen2VlTesting.processor(qwen25);
        List<EngineRequest> reqs = new ArrayList<>();
        String[] questions = {"describe", "the cat", "what is in"};
        for (String q : questions) {
            for (int i = 0; i < 4; i++) {
                reqs.add(Qwen2VlTesting.request(p, Qwen2VlTesting.IMAGE + q, List.of(Qwen2VlTesting.image(448, 448, 20 + i)),
                        List.of(), greedy));
            }
        }
        // 448x448 is the largest image this checkpoint's budget allows (256 tokens), so the engine's
        // floor for the cache (the model's largest item) is one image
        int rows = reqs.get(0).media().get(0).numEmbeddings();
        assertThat(rows).isEqualTo(256);
        long[] runs = new long[2];
        int k = 0;
        // one image's rows vs all four images' rows
        for (int cacheRows : new int[] {rows, 4 * rows}) {
            try (Engine engine = new Engine(qwen25, EngineConfig.defaults().withMaxNumBatchedTokens(rows + 8)
                    .withMaxNumSeqs(4).withPrefixCaching(false).withEncoderCacheRows(cacheRows))) {
                List<RequestHandle> hs = new ArrayList<>();
                for (EngineRequest r : reqs) {
                    hs.add(engine.submit(r));
                }
                for (RequestHandle h : hs) {
                    assertThat(h.result().get().ok()).isTrue();
                }
                runs[k++] = engine.metrics().encoderRuns();
            }
        }
        assertThat(runs[1]).as("encoder runs with room for all four images").isEqualTo(4);
        assertThat(runs[0]).as("encoder runs with room for one").isGreaterThan(4);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen2-vl", "qwen2.5-vl"})
    void prefixHitsEndingInsideAndRightAfterAnImageKeepTheTokens(String arch) throws Exception {
        LoadedModel model = arch.equals("qwen2-vl") ? qwen2 : qwen25;
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(4).ignoreEos(true).build();
        MultimodalProcessor p = Qwen2VlTesting.processor(model);
        MediaSource img = Qwen2VlTesting.image(100, 70, 5);
        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        // the same image first, then different questions: later requests hit the cached blocks,
        // which end inside the image run or right after it depending on the block size
        for (int blockSize : new int[] {4, 8, 16}) {
            try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(blockSize))) {
                int cachedSeen = 0;
                for (String q : new String[] {"describe", "the cat", "a red car and the dog", "what"}) {
                    EngineRequest r = Qwen2VlTesting.request(p, "Q " + Qwen2VlTesting.IMAGE + q, List.of(img), List.of(), greedy);
                    EngineResult res = engine.submit(r).result().get();
                    assertThat(res.error()).isNull();
                    assertThat(res.tokenIds()).as("%s block %d: %s", arch, blockSize, q)
                            .containsExactly(naive.generate(r.promptTokenIds(), r.media(), greedy).tokenIds());
                    cachedSeen = Math.max(cachedSeen, res.cachedTokens());
                }
                MediaInput m = Qwen2VlTesting.request(p, "Q " + Qwen2VlTesting.IMAGE + "x", List.of(img), List.of(), greedy)
                        .media().get(0);
                assertThat(cachedSeen).as("a prefix hit covers the image").isGreaterThanOrEqualTo(
                        (m.offset() + m.length()) / blockSize * blockSize);
                assertThat(engine.metrics().encoderRuns()).isEqualTo(1);
            }
        }
    }
}
