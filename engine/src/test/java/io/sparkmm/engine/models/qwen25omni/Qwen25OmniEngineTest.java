package io.sparkmm.engine.models.qwen25omni;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.models.EngineVsNaive;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Qwen2.5-Omni thinker through the paged engine against the naive generator (full recompute,
 * one request at a time): audio clips, an image, a video with its own audio interleaved; chunked
 * prefill cutting through audio and interleaved runs, prefix hits, preemption. TMRoPE positions
 * that went wrong anywhere in a chunk or after a prefix hit would change the tokens.
 */
class Qwen25OmniEngineTest {

    static final String AUDIO = "<|audio_bos|><|AUDIO|><|audio_eos|>";
    static final String IMAGE = "<|vision_bos|><|IMAGE|><|vision_eos|>";
    static final String VIDEO = "<|vision_bos|><|VIDEO|><|vision_eos|>";

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;
    static MultimodalProcessor processor;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(OmniTesting.CKPT, backend);
        processor = new MultimodalProcessor(model, new ProcessorCache(64L << 20), MediaLimits.defaults());
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static MediaSource file(Path p) {
        return OmniTesting.file(p);
    }

    private static EngineRequest request(String text, List<MediaSource> images, List<MediaSource> audio,
                                         List<MediaSource> videos, boolean audioInVideo, SamplingParams sampling) {
        return OmniTesting.request(processor, text, images, audio, videos, audioInVideo, sampling);
    }

    private static List<EngineRequest> requests(SamplingParams greedy) {
        MediaSource a = file(OmniTesting.wav(dir, 52800, 3));
        MediaSource b = file(OmniTesting.wav(dir, 88000, 5));
        MediaSource c = file(OmniTesting.wav(dir, 5000, 9));
        MediaSource img = file(OmniTesting.png(dir, 84, 56, 1));
        MediaSource vid = file(OmniTesting.video(dir, 4, 336, 336, 6, 40000, 7));
        return List.of(
                request(AUDIO + " what is this sound ?", List.of(), List.of(a), List.of(), false, greedy),
                request("hello " + AUDIO + " and " + AUDIO + " ?", List.of(), List.of(b, a), List.of(), false, greedy),
                request(IMAGE + " and " + AUDIO + " describe", List.of(img), List.of(c), List.of(), false, greedy),
                request(VIDEO + " describe the video .", List.of(), List.of(), List.of(vid), true, greedy),
                request(IMAGE + " " + VIDEO + " and " + AUDIO, List.of(img), List.of(c), List.of(vid), true, greedy),
                request(VIDEO + " describe the video .", List.of(), List.of(), List.of(vid), false, greedy));
    }

    @Test
    void greedyTokensEqualTheNaivePathChunkedCachedAndPreempted() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(5).ignoreEos(true).build();
        List<EngineRequest> reqs = requests(greedy);
        List<int[]> expected = EngineVsNaive.expected(model, reqs, greedy);
        // the video with its audio is one item whose run interleaves <|VIDEO|> and <|AUDIO|> tokens
        assertThat(reqs.get(3).media()).hasSize(1);
        assertThat(reqs.get(3).promptTokenIds().length).isGreaterThan(reqs.get(5).promptTokenIds().length);
        int largest = reqs.stream().mapToInt(r -> r.promptTokenIds().length).max().orElseThrow();
        List<EngineConfig> configs = List.of(
                EngineConfig.defaults(),
                // chunks of 13 tokens: boundaries fall inside every audio run and interleaved video
                EngineConfig.defaults().withMaxNumBatchedTokens(13).withBlockSize(4).withNumKvBlocks(2000),
                // room for the largest request and a little more: the others wait or are preempted and recomputed
                EngineConfig.defaults().withMaxNumBatchedTokens(32).withBlockSize(4)
                        .withNumKvBlocks((largest + 8) / 4 + 8));
        for (EngineConfig config : configs) {
            EngineVsNaive.Run run = EngineVsNaive.check(model, config, reqs, expected, "qwen2.5-omni");
            EngineMetrics metrics = run.metrics();
            if (config == configs.get(2)) {
                assertThat(metrics.preemptions()).as("preemptions with a tight KV pool").isPositive();
            }
        }
    }

    @Test
    void prefixHitsThroughAnInterleavedVideoKeepTheTokens() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(4).ignoreEos(true).build();
        MediaSource vid = file(OmniTesting.video(dir, 4, 336, 336, 16, 40000, 17));
        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(8))) {
            int cachedSeen = 0;
            int runEnd = 0;
            for (String q : new String[] {"describe", "what is in the video ?", "hello"}) {
                EngineRequest r = request("user " + VIDEO + " " + q, List.of(), List.of(), List.of(vid), true, greedy);
                EngineResult res = engine.submit(r).result().get();
                assertThat(res.error()).isNull();
                assertThat(res.tokenIds()).as(q).containsExactly(naive.generate(r.promptTokenIds(), r.media(), greedy).tokenIds());
                cachedSeen = Math.max(cachedSeen, res.cachedTokens());
                runEnd = r.media().get(0).offset() + r.media().get(0).length();
            }
            assertThat(cachedSeen).as("a prefix hit covers the video and its audio").isGreaterThanOrEqualTo(runEnd / 8 * 8);
            assertThat(engine.metrics().encoderRuns()).isEqualTo(1);
        }
    }
}
