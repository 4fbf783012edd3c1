package io.sparkmm.engine.models.qwenvl;

import io.sparkmm.engine.models.EngineVsNaive;
import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Qwen-VL through the paged engine against the naive generator (full recompute, no cache, no
 * chunks): one and two images per request, chat and plain prompts, chunks that cut through the
 * 256-pad runs, prefix hits on shared system prompts and images, and preemption under a tight KV
 * pool. Identical greedy tokens everywhere.
 */
class QwenVlEngineTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(TinyQwenVlCheckpoint.write(dir, TinyQwenVlCheckpoint.Spec.tiny()), backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static List<EngineRequest> requests(SamplingParams sampling) {
        MultimodalProcessor p = QwenVlTesting.processor(model);
        MediaSource a = QwenVlTesting.image("grad90x60");
        MediaSource b = QwenVlTesting.image("dot1x1");
        return List.of(
                QwenVlTesting.request(p, "What is in the picture?", true, List.of(a), sampling),
                QwenVlTesting.request(p, "What colour is it?", true, List.of(a), sampling),
                QwenVlTesting.request(p, "Compare the two.", true, List.of(a, b), sampling),
                QwenVlTesting.request(p, "Picture 1: <img>x.png</img>\nDescribe it.", false, List.of(b), sampling),
                QwenVlTesting.request(p, "Picture 1: <img></img>\nPicture 2: <img></img>\nSame?", false, List.of(b, a), sampling),
                QwenVlTesting.request(p, "Just text, no picture here.", true, List.of(), sampling));
    }

    @Test
    void greedyTokensEqualTheNaivePathChunkedCachedAndPreempted() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(5).ignoreEos(true).build();
        List<EngineRequest> reqs = requests(greedy);
        List<int[]> expected = EngineVsNaive.expected(model, reqs, greedy);
        int largest = reqs.stream().mapToInt(r -> r.promptTokenIds().length).max().orElseThrow();
        List<EngineConfig> configs = List.of(
                EngineConfig.defaults(),
                // chunks of 37 tokens: boundaries fall inside every 256-pad run
                EngineConfig.defaults().withMaxNumBatchedTokens(37).withBlockSize(4).withNumKvBlocks(1200),
                // room for little more than the largest request: the others wait or are preempted and recomputed
                EngineConfig.defaults().withMaxNumBatchedTokens(300).withBlockSize(4)
                        .withNumKvBlocks((largest + 8) / 4 + 40),
                EngineConfig.defaults().withMaxNumBatchedTokens(128).withBlockSize(4)
                        .withNumKvBlocks((largest + 8) / 4 + 80));
        long preemptions = 0;
        for (EngineConfig config : configs) {
            EngineVsNaive.Run run = EngineVsNaive.check(model, config, reqs, expected, "qwen-vl");
            EngineMetrics metrics = run.metrics();
            long cached = run.cachedTokens();
            assertThat(metrics.encoderRuns()).as("two distinct images").isLessThanOrEqualTo(4 * 2);
            if (config == configs.get(1)) {
                assertThat(cached).as("prefix hits on the shared system prompt and image").isPositive();
            }
            preemptions += metrics.preemptions();
            System.out.printf("qwen-vl engine vs naive: %d requests identical; cached tokens %d, preemptions %d, encoder runs %d"
                    + " (batched tokens %d, KV blocks %s)%n", reqs.size(), cached, metrics.preemptions(), metrics.encoderRuns(),
                    config.maxNumBatchedTokens(), config.numKvBlocks());
        }
        assertThat(preemptions).as("preemptions with a tight KV pool").isPositive();
    }

    /**
     * Qwen-VL's embedding has more rows than its tokenizer has tokens (here 2304 and 2265, as
     * 151936 and 151860 in the real model), so sampling can draw an id that has no text. Such a
     * request once killed the engine loop while its text was decoded, and every request still
     * waiting hung. Each request must finish, its text that of the ids the tokenizer knows.
     */
    @Test
    void sampledIdsPastTheTokenizerHaveNoTextAndEveryRequestFinishes() throws Exception {
        int tokens = model.tokenizer().vocabSize();
        assertThat(tokens).as("the tiny checkpoint leaves embedding rows past its tokenizer")
                .isLessThan(TinyQwenVlCheckpoint.VOCAB_SIZE);
        MultimodalProcessor p = QwenVlTesting.processor(model);
        List<RequestHandle> handles = new ArrayList<>();
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            for (int seed = 1; seed <= 16; seed++) {
                // temperature 50 makes the draw close to uniform over all 2304 rows
                SamplingParams hot = SamplingParams.builder().temperature(50).maxTokens(20).ignoreEos(true)
                        .seed((long) seed).build();
                handles.add(engine.submit(QwenVlTesting.request(p, "Say something " + seed, true, List.of(), hot)));
            }
            int pastTheTokenizer = 0;
            for (RequestHandle h : handles) {
                EngineResult r = h.result().get(2, TimeUnit.MINUTES);
                assertThat(r.error()).as(r.requestId()).isNull();
                assertThat(r.tokenIds()).hasSize(20);
                int[] known = Arrays.stream(r.tokenIds()).filter(id -> id < tokens).toArray();
                pastTheTokenizer += r.tokenIds().length - known.length;
                assertThat(r.text()).as(r.requestId()).isEqualTo(model.tokenizer().decode(known, true));
            }
            assertThat(pastTheTokenizer).as("ids drawn past the tokenizer (the case under test)").isPositive();
            assertThat(engine.metrics().failed()).isZero();
        }
    }
}
