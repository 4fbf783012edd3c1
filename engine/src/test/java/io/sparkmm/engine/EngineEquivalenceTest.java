package io.sparkmm.engine;

import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;
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
 * The paged engine against the naive full-recompute generator (ARCHITECTURE.md oracle 2):
 * hundreds of requests of varied lengths, many sharing prefixes, under a tiny KV pool (forcing
 * preemption) and a tiny token budget (forcing chunked prefill), must give the same greedy
 * tokens request by request; seeded sampling must give the same tokens as the request alone.
 */
class EngineEquivalenceTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void load() {
        TinyCheckpoint.write(dir, TinyCheckpoint.Spec.llamaGqa().withDtype(DType.BF16).withSeed(21));
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(dir, backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    /** Prompts from a few shared stems, so prefixes repeat across requests and across blocks. */
    static List<int[]> prompts(int count, long seed) {
        Random rnd = new Random(seed);
        List<int[]> stems = new ArrayList<>();
        for (int s = 0; s < 6; s++) {
            int[] stem = new int[5 + rnd.nextInt(60)];
            for (int i = 0; i < stem.length; i++) {
                stem[i] = rnd.nextInt(370);
            }
            stems.add(stem);
        }
        List<int[]> out = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            int[] stem = stems.get(rnd.nextInt(stems.size()));
            int keep = rnd.nextInt(4) == 0 ? stem.length : 1 + rnd.nextInt(stem.length);
            int extra = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(40);
            int[] p = new int[keep + extra];
            System.arraycopy(stem, 0, p, 0, keep);
            for (int i = keep; i < p.length; i++) {
                p[i] = rnd.nextInt(370);
            }
            out.add(p);
        }
        return out;
    }

    @Test
    void greedyTokensEqualNaiveUnderPreemptionChunkingAndPrefixHits() throws Exception {
        List<int[]> prompts = prompts(240, 1);
        Random rnd = new Random(2);
        List<SamplingParams> params = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            params.add(SamplingParams.builder().temperature(0).maxTokens(1 + rnd.nextInt(12)).ignoreEos(true).build());
        }
        // 40 blocks of 4 tokens: far less than 240 requests need, so requests get preempted;
        // 24 tokens per step: long prompts are split into chunks.
        EngineConfig tight = EngineConfig.defaults().withBlockSize(4).withNumKvBlocks(40)
                .withMaxNumBatchedTokens(24).withMaxNumSeqs(32);
        List<RequestHandle> handles = new ArrayList<>();
        EngineMetrics metrics;
        try (Engine engine = new Engine(model, tight)) {
            for (int i = 0; i < prompts.size(); i++) {
                handles.add(engine.submit(EngineRequest.of(prompts.get(i), params.get(i))));
            }
            for (RequestHandle h : handles) {
                h.result().get();
            }
            metrics = engine.metrics();
        }
        NaiveGenerator naive = new NaiveGenerator(model.model(), model.eosTokenIds());
        for (int i = 0; i < prompts.size(); i++) {
            EngineResult r = handles.get(i).result().get();
            assertThat(r.error()).as("request %d", i).isNull();
            assertThat(r.tokenIds()).as("request %d", i)
                    .containsExactly(naive.generate(prompts.get(i), params.get(i)).tokenIds());
        }
        assertThat(metrics.preemptions()).as("preemptions").isPositive();
        assertThat(metrics.prefixHitTokens()).as("prefix-cache hits").isPositive();
        assertThat(metrics.steps()).isGreaterThan(prompts.size() / 4);
        assertThat(metrics.scheduledTokens()).isLessThanOrEqualTo(24L * metrics.steps());
    }

    @Test
    void penaltiesAndMinTokensMatchNaiveToo() throws Exception {
        List<int[]> prompts = prompts(40, 5);
        Random rnd = new Random(6);
        List<SamplingParams> params = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            params.add(SamplingParams.builder().temperature(i % 2 == 0 ? 0 : 0.8).seed(77L + i)
                    .repetitionPenalty(1 + rnd.nextDouble()).presencePenalty(rnd.nextDouble())
                    .frequencyPenalty(rnd.nextDouble()).minP(0.05).minTokens(3).maxTokens(10).build());
        }
        NaiveGenerator naive = new NaiveGenerator(model.model(), model.eosTokenIds());
        try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(4).withNumKvBlocks(30)
                .withMaxNumBatchedTokens(16))) {
            List<RequestHandle> hs = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                hs.add(engine.submit(EngineRequest.of(prompts.get(i), params.get(i))));
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertThat(hs.get(i).result().get().tokenIds()).as("request %d", i)
                        .containsExactly(naive.generate(prompts.get(i), params.get(i)).tokenIds());
            }
        }
    }

    @Test
    void seededSamplingIsTheSameAloneOrAmongOthers() throws Exception {
        List<int[]> prompts = prompts(100, 3);
        List<SamplingParams> params = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            params.add(SamplingParams.builder().temperature(0.9).topP(0.95).topK(40).seed(1000L + i)
                    .maxTokens(8).ignoreEos(true).logprobs(3).build());
        }
        List<EngineResult> together = new ArrayList<>();
        try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(8).withNumKvBlocks(60)
                .withMaxNumBatchedTokens(32))) {
            List<RequestHandle> hs = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                hs.add(engine.submit(EngineRequest.of(prompts.get(i), params.get(i))));
            }
            for (RequestHandle h : hs) {
                together.add(h.result().get());
            }
        }
        try (Engine alone = new Engine(model, EngineConfig.defaults().withPrefixCaching(false))) {
            for (int i = 0; i < prompts.size(); i += 7) {
                EngineResult solo = alone.submit(EngineRequest.of(prompts.get(i), params.get(i))).result().get();
                assertThat(together.get(i).tokenIds()).as("request %d", i).containsExactly(solo.tokenIds());
                // logprobs are a function of the raw logits: exact equality means bit-identical logits
                assertThat(together.get(i).logprobs()).as("request %d logprobs", i).isEqualTo(solo.logprobs());
            }
        }
    }
}
