package io.sparkmm.engine.models.llavaonevision;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.models.EngineVsNaive;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.generate.NaiveGenerator;
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

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * LLaVA-OneVision through the paged engine against the naive generator (full recompute, no cache, no
 * chunks): lone images, several images in a prompt, videos and both together, with chunked prefill
 * cutting through image and video runs, prefix hits ending inside and right after a video, and
 * preemption under a tight KV pool.
 */
class LlavaOnevisionEngineTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;
    static MultimodalProcessor processor;
    static MediaSource clipA;
    static MediaSource clipB;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(TinyLlavaOnevisionCheckpoint.write(dir.resolve("ov"),
                TinyLlavaOnevisionCheckpoint.Spec.defaults()), backend);
        processor = new MultimodalProcessor(model, new ProcessorCache(64L << 20), MediaLimits.defaults());
        // 5 and 3 frames: every frame kept (fewer than the 32 the sampler asks for)
        clipA = MediaSource.ofPath(Qwen2VlTesting.ffmpeg(dir.resolve("a.mp4"), "testsrc=size=64x48:rate=5:duration=1",
                "-pix_fmt", "yuv420p").toString());
        clipB = MediaSource.ofPath(Qwen2VlTesting.ffmpeg(dir.resolve("b.mkv"), "testsrc2=size=50x70:rate=3:duration=1",
                "-c:v", "ffv1").toString());
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    static EngineRequest request(String text, List<MediaSource> images, List<MediaSource> videos, SamplingParams s) {
        return processor.build(null, new PromptInput(text, null, false, null, images, List.of(), videos,
                ProcessorKwargs.NONE), s);
    }

    private static List<EngineRequest> requests(SamplingParams s) {
        MediaSource wide = Qwen2VlTesting.image(120, 50, 1);
        MediaSource tall = Qwen2VlTesting.image(40, 90, 2);
        MediaSource small = Qwen2VlTesting.image(30, 30, 3);
        return List.of(
                request("a <video> what happens", List.of(), List.of(clipA), s),
                request("<image> the cat", List.of(wide), List.of(), s),
                request("<image> and <image> and <image> differ", List.of(wide, tall, small), List.of(), s),
                request("<image> then <video> same?", List.of(tall), List.of(clipB), s),
                request("<video> <image> <image> describe", List.of(small, wide), List.of(clipA), s),
                request("<video> and <video> the dog", List.of(), List.of(clipB, clipA), s),
                request("a <video> what is in", List.of(), List.of(clipA), s));
    }

    @Test
    void greedyTokensEqualTheNaivePathChunkedCachedAndPreempted() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        List<EngineRequest> reqs = requests(greedy);
        // the video run lengths: frames * ceil(3/2)^2 + 1
        assertThat(reqs.get(0).media().get(0).length()).isEqualTo(5 * 4 + 1);
        assertThat(reqs.get(3).media().get(1).length()).isEqualTo(3 * 4 + 1);
        assertThat(reqs.get(2).media()).allSatisfy(m -> assertThat(m.length()).isEqualTo(3 * 3 + 1));
        List<int[]> expected = EngineVsNaive.expected(model, reqs, greedy);
        int largest = reqs.stream().mapToInt(r -> r.promptTokenIds().length).max().orElseThrow();
        List<EngineConfig> configs = List.of(
                EngineConfig.defaults(),
                // chunks of 7 tokens: boundaries fall inside every video and image run
                EngineConfig.defaults().withMaxNumBatchedTokens(7).withBlockSize(4).withNumKvBlocks(400),
                // room for the largest request and a little more: the others wait or are preempted and recomputed
                EngineConfig.defaults().withMaxNumBatchedTokens(48).withBlockSize(4)
                        .withNumKvBlocks((largest + 8) / 4 + 3));
        for (EngineConfig config : configs) {
            EngineVsNaive.Run run = EngineVsNaive.check(model, config, reqs, expected, "llava-onevision");
            EngineMetrics metrics = run.metrics();
            if (config == configs.get(2)) {
                System.out.printf("llava-onevision tight KV pool: %d preemptions%n", metrics.preemptions());
                assertThat(metrics.preemptions()).as("preemptions with a tight KV pool").isPositive();
            }
        }
    }

    @Test
    void prefixHitsEndingInsideAndRightAfterAVideoKeepTheTokens() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(4).ignoreEos(true).build();
        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        for (int blockSize : new int[] {4, 8, 16}) {
            try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(blockSize))) {
                int cachedSeen = 0;
                for (String q : new String[] {"describe", "the cat", "a red car and the dog", "what"}) {
                    EngineRequest r = request("Q <video>" + q, List.of(), List.of(clipA), greedy);
                    EngineResult res = engine.submit(r).result().get();
                    assertThat(res.error()).isNull();
                    assertThat(res.tokenIds()).as("block %d: %s", blockSize, q)
                            .containsExactly(naive.generate(r.promptTokenIds(), r.media(), greedy).tokenIds());
                    cachedSeen = Math.max(cachedSeen, res.cachedTokens());
                }
                var m = request("Q <video>x", List.of(), List.of(clipA), greedy).media().get(0);
                assertThat(cachedSeen).as("a prefix hit covers the video").isGreaterThanOrEqualTo(
                        (m.offset() + m.length()) / blockSize * blockSize);
                assertThat(engine.metrics().encoderRuns()).isEqualTo(1);
            }
        }
    }

    @Test
    void anImageIsProcessedDifferentlyAloneAndWithOthersAndCachedSeparately() {
        MediaSource wide = Qwen2VlTesting.image(120, 50, 1);
        EngineRequest alone = request("<image> x", List.of(wide), List.of(), SamplingParams.greedy(1));
        EngineRequest two = request("<image> <image> x", List.of(wide, wide), List.of(), SamplingParams.greedy(1));
        // alone: AnyRes (base patch + tiles); with another image: one square patch, 3*3 features + a newline
        assertThat(alone.media().get(0).tensor(LlavaOnevisionProcessor.PIXEL_VALUES).shape()[0]).isGreaterThan(1);
        assertThat(two.media().get(0).tensor(LlavaOnevisionProcessor.PIXEL_VALUES).shape()[0]).isEqualTo(1);
        assertThat(two.media().get(0).length()).isEqualTo(10);
        assertThat(two.media().get(0).hash()).isNotEqualTo(alone.media().get(0).hash()).isEqualTo(two.media().get(1).hash());
        // pricing a row from the sizes alone (token-aware partitions) counts the same way
        assertThat(processor.promptTokens(new PromptInput("<image> <image> x", null, false, null, List.of(), List.of(),
                List.of(), ProcessorKwargs.NONE), List.of(new int[] {120, 50}, new int[] {120, 50})))
                .isEqualTo(two.promptTokenIds().length);
        assertThat(processor.promptTokens(new PromptInput("<image> x", null, false, null, List.of(), List.of(),
                List.of(), ProcessorKwargs.NONE), List.<int[]>of(new int[] {120, 50})))
                .isEqualTo(alone.promptTokenIds().length);
    }
}
