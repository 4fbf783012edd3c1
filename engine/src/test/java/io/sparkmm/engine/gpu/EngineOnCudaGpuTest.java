package io.sparkmm.engine.gpu;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.llava.LlavaModel;
import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
import io.sparkmm.engine.models.qwen2vl.TinyQwen2VlCheckpoint;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cuda.Cuda;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.prompt.PlaceholderRange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The engine on a real device: tiny checkpoints (text Llama and Qwen2, LLaVA, Qwen2-VL) served by
 * the paged engine on {@code cuda:0}. Excluded from the default build (tag "gpu"); run by
 * {@code mvn -Pgpu -pl engine test} or scripts/gpu-check.sh, which set
 * {@code -Dsparkmm.gpu.required=true} so that a missing GPU fails instead of skipping.
 *
 * <p>What must hold, and why these bars:
 * <ul>
 *   <li>engine vs naive generator, both on cuda:0: identical greedy tokens (the CPU oracle-2 rule),
 *       since the CUDA backend promises per-row results independent of batch and chunking;</li>
 *   <li>cuda:0 vs cpu-reference: equal greedy tokens up to the first position where the CPU's top-2
 *       logit margin is below {@value #NEAR_TIE}; beyond a near-tie, F32 summation order may
 *       legitimately flip the argmax, so only the prefix before it is compared;</li>
 *   <li>batch invariance: a request alone and among 63 others gives bit-identical tokens and
 *       logprobs (logprobs are a function of the raw logits);</li>
 *   <li>a request that can never fit the KV pool fails alone; the engine keeps serving.</li>
 * </ul>
 * Media are pixel tensors built here, never decoded files: the carried classpath has no codecs.
 */
@Tag("gpu")
class EngineOnCudaGpuTest {

    static final double NEAR_TIE = 1e-3;

    /**
     * Defaults with a fixed pool of 4096 blocks (64K tokens, far more than any test needs): left
     * automatic, the pool would take 0.9 of the device's free memory, millions of blocks of a tiny
     * model, for every engine these tests open.
     */
    static EngineConfig base() {
        return EngineConfig.defaults().withNumKvBlocks(4096);
    }

    enum Kind { LLAMA, QWEN2, LLAVA, QWEN2_VL }

    @TempDir
    static Path dir;
    static Backend gpu;
    static Backend ref;
    static final Map<Kind, LoadedModel> onGpu = new EnumMap<>(Kind.class);
    static final Map<Kind, LoadedModel> onCpu = new EnumMap<>(Kind.class);

    @BeforeAll
    static void load() {
        if (Boolean.getBoolean("sparkmm.gpu.required")) {
            assertThat(Cuda.available()).as("CUDA is required here: %s", Cuda.reason()).isTrue();
        } else {
            assumeTrue(Cuda.available(), Cuda.reason());
        }
        gpu = Backends.open("cuda:0", 1);
        ref = Backends.open("cpu-reference", 2);
        for (Kind k : Kind.values()) {
            Path d = dir.resolve(k.name());
            switch (k) {
                case LLAMA -> TinyCheckpoint.write(d, TinyCheckpoint.Spec.llamaGqa().withDtype(DType.BF16).withSeed(21));
                case QWEN2 -> TinyCheckpoint.write(d, TinyCheckpoint.Spec.qwen2().withDtype(DType.F16).withSeed(5));
                case LLAVA -> TinyLlavaCheckpoint.write(d, TinyLlavaCheckpoint.Spec.llama());
                case QWEN2_VL -> TinyQwen2VlCheckpoint.write(d, TinyQwen2VlCheckpoint.Spec.qwen2Vl());
            }
            // token ids only: without tokenizer.json no tokenizer (DJL's Rust library) or chat
            // template (jinjava, java.beans) is loaded, so neither travels to the GPU machine
            deleteTokenizer(d);
            onGpu.put(k, LoadedModel.open(d, gpu));
            onCpu.put(k, LoadedModel.open(d, ref));
        }
    }

    private static void deleteTokenizer(Path d) {
        try {
            Files.delete(d.resolve("tokenizer.json"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void close() {
        onGpu.values().forEach(LoadedModel::close);
        onCpu.values().forEach(LoadedModel::close);
        if (gpu != null) {
            gpu.close();
        }
        if (ref != null) {
            ref.close();
        }
    }

    /**
     * Requests of varied lengths from a few shared stems (so prefixes repeat across requests and
     * blocks); multimodal kinds get 0 to 2 images each, from 3 distinct pixel seeds.
     */
    static List<EngineRequest> requests(Kind kind, int count, long seed, SamplingParams sampling) {
        Random rnd = new Random(seed);
        int[][] stems = new int[4][];
        for (int s = 0; s < stems.length; s++) {
            stems[s] = randomIds(rnd, 5 + rnd.nextInt(40));
        }
        List<EngineRequest> out = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            int[] stem = stems[rnd.nextInt(stems.length)];
            List<Integer> ids = new ArrayList<>();
            for (int i = 0, keep = 1 + rnd.nextInt(stem.length); i < keep; i++) {
                ids.add(stem[i]);
            }
            List<MediaInput> media = new ArrayList<>();
            int images = kind == Kind.LLAVA || kind == Kind.QWEN2_VL ? r % 3 : 0;
            for (int j = 0; j < images; j++) {
                media.add(image(kind, rnd.nextInt(3), ids));
                for (int id : randomIds(rnd, 1 + rnd.nextInt(4))) {
                    ids.add(id);
                }
            }
            for (int id : randomIds(rnd, rnd.nextInt(20))) {
                ids.add(id);
            }
            out.add(new EngineRequest("r" + r, ids.stream().mapToInt(Integer::intValue).toArray(), sampling, null, media));
        }
        return out;
    }

    private static int[] randomIds(Random rnd, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = 10 + rnd.nextInt(300); // ordinary text ids of the tiny tokenizer, no special tokens
        }
        return a;
    }

    /** Appends an image's placeholder run to {@code ids} and returns its media input (raw pixels). */
    private static MediaInput image(Kind kind, long pixelSeed, List<Integer> ids) {
        Random r = new Random(pixelSeed);
        int offset = ids.size();
        if (kind == Kind.LLAVA) {
            LlavaModel m = (LlavaModel) onGpu.get(kind).model();
            var vc = m.config().visionConfig();
            float[] px = gaussian(r, vc.numChannels() * vc.imageSize() * vc.imageSize());
            for (int i = 0; i < m.imageTokensPerImage(); i++) {
                ids.add(m.imageTokenId());
            }
            return new MediaInput(ProcessedItem.of("llava-" + pixelSeed, "image", "pixel_values",
                    new ItemTensor(px, new int[] {vc.numChannels(), vc.imageSize(), vc.imageSize()})),
                    new PlaceholderRange(offset, m.imageTokensPerImage()));
        }
        // Qwen2-VL: a 1x4x6 patch grid of 3*2*14*14 values per patch (the tiny checkpoint's
        // patch 14, temporal patch 2, merge 2), so 24 patches merge into 6 <|image_pad|> tokens
        int gh = 4, gw = 6, tokens = gh * gw / 4;
        float[] px = gaussian(r, gh * gw * 3 * 2 * 14 * 14);
        ids.add(TinyQwen2VlCheckpoint.VISION_START_ID);
        offset = ids.size();
        for (int i = 0; i < tokens; i++) {
            ids.add(TinyQwen2VlCheckpoint.IMAGE_PAD_ID);
        }
        ids.add(TinyQwen2VlCheckpoint.VISION_END_ID);
        return new MediaInput(new ProcessedItem("qwen-" + pixelSeed, "image", Map.of(
                "pixel_values", new ItemTensor(px, new int[] {gh * gw, 3 * 2 * 14 * 14}),
                "grid_thw", ItemTensor.ofInts(new int[] {1, gh, gw}, 3))), new PlaceholderRange(offset, tokens));
    }

    private static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static List<EngineResult> serve(LoadedModel model, EngineConfig config, List<EngineRequest> reqs,
                                            EngineMetrics[] metrics) throws Exception {
        List<RequestHandle> hs = new ArrayList<>();
        List<EngineResult> out = new ArrayList<>();
        try (Engine engine = new Engine(model, config)) {
            for (EngineRequest r : reqs) {
                hs.add(engine.submit(r));
            }
            for (RequestHandle h : hs) {
                out.add(h.result().get());
            }
            if (metrics != null) {
                metrics[0] = engine.metrics();
            }
        }
        return out;
    }

    private static NaiveGenerator naive(LoadedModel m) {
        return new NaiveGenerator(m.model(), m.eosTokenIds());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void pagedEngineOnCudaEqualsNaiveOnCudaUnderChunkingAndPreemption(Kind kind) throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        List<EngineRequest> reqs = requests(kind, 60, 1, greedy);
        // 24 blocks of 4 tokens cannot hold 16 running sequences: requests get preempted; a
        // 12-token budget (below LLaVA's image run) splits prompts and cuts through image runs
        EngineConfig tight = EngineConfig.defaults().withBlockSize(4).withNumKvBlocks(24)
                .withMaxNumBatchedTokens(12).withMaxNumSeqs(16);
        EngineMetrics[] m = new EngineMetrics[1];
        List<EngineResult> results = serve(onGpu.get(kind), tight, reqs, m);
        NaiveGenerator oracle = naive(onGpu.get(kind));
        for (int i = 0; i < reqs.size(); i++) {
            EngineRequest q = reqs.get(i);
            assertThat(results.get(i).error()).as("%s request %d", kind, i).isNull();
            assertThat(results.get(i).tokenIds()).as("%s request %d", kind, i)
                    .containsExactly(oracle.generate(q.promptTokenIds(), q.media(), greedy).tokenIds());
        }
        assertThat(m[0].preemptions()).as("preemptions").isPositive();
        assertThat(m[0].scheduledTokens()).isLessThanOrEqualTo(12L * m[0].steps());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void greedyTokensAgreeWithTheCpuReferenceUpToTheFirstNearTie(Kind kind) throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        List<EngineRequest> reqs = requests(kind, 16, 2, greedy);
        List<EngineResult> results = serve(onGpu.get(kind), base(), reqs, null);
        NaiveGenerator cpu = naive(onCpu.get(kind));
        int diverged = 0;
        for (int i = 0; i < reqs.size(); i++) {
            EngineRequest q = reqs.get(i);
            int[] expected = cpu.generate(q.promptTokenIds(), q.media(), greedy).tokenIds();
            int[] actual = results.get(i).tokenIds();
            assertThat(actual).as("%s request %d length", kind, i).hasSameSizeAs(expected);
            int first = Arrays.mismatch(expected, actual);
            if (first < 0) {
                continue;
            }
            diverged++;
            // the CPU's logits where the two first differ: only a near-tie excuses the difference
            int[] context = Arrays.copyOf(q.promptTokenIds(), q.promptTokenIds().length + first);
            System.arraycopy(expected, 0, context, q.promptTokenIds().length, first);
            double margin = top2Margin(cpu.lastLogits(context, q.media()));
            assertThat(margin).as("%s request %d differs at token %d (cpu %d, cuda %d) without a near-tie",
                    kind, i, first, expected[first], actual[first]).isLessThan(NEAR_TIE);
        }
        // random tiny models rarely have near-ties: most requests must agree outright
        assertThat(diverged).as("%s requests that diverged at a near-tie", kind).isLessThanOrEqualTo(reqs.size() / 4);
    }

    static double top2Margin(float[] logits) {
        double a = Double.NEGATIVE_INFINITY, b = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            if (v > a) {
                b = a;
                a = v;
            } else if (v > b) {
                b = v;
            }
        }
        return a - b;
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"LLAMA", "QWEN2_VL"})
    void aRequestAloneAndAmong63OthersGivesBitIdenticalTokensAndLogprobs(Kind kind) throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).logprobs(3).build();
        List<EngineRequest> reqs = requests(kind, 64, 3, greedy);
        // no prefix caching on either side: a difference can only come from batching
        EngineConfig noCache = base().withPrefixCaching(false);
        List<EngineResult> together = serve(onGpu.get(kind), noCache, reqs, null);
        for (int i : new int[] {0, 17, 40, 63}) {
            EngineResult alone = serve(onGpu.get(kind), noCache, List.of(reqs.get(i)), null).get(0);
            assertThat(alone.error()).isNull();
            assertThat(together.get(i).tokenIds()).as("%s request %d tokens", kind, i).containsExactly(alone.tokenIds());
            assertThat(together.get(i).logprobs()).as("%s request %d logprobs", kind, i)
                    .hasSize(8).isEqualTo(alone.logprobs());
        }
    }

    @Test
    void aRequestTooLargeForTheKvPoolFailsAloneAndTheEngineGoesOn() throws Exception {
        LoadedModel model = onGpu.get(Kind.LLAMA);
        NaiveGenerator oracle = naive(model);
        int[] small = randomIds(new Random(7), 9);
        int[] huge = randomIds(new Random(8), 50); // 50 + 3 tokens need 14 blocks of 4; the pool has 12
        try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(4).withNumKvBlocks(12))) {
            RequestHandle before = engine.submit(EngineRequest.of(small, SamplingParams.greedy(3)));
            RequestHandle tooLarge = engine.submit(EngineRequest.of(huge, SamplingParams.greedy(3)));
            assertThat(tooLarge.result().get().error()).containsIgnoringCase("block");
            assertThat(before.result().get().tokenIds())
                    .containsExactly(oracle.generate(small, SamplingParams.greedy(3)).tokenIds());
            // submitted after the failure: the engine is still serving
            RequestHandle after = engine.submit(EngineRequest.of(Arrays.copyOf(huge, 30), SamplingParams.greedy(3)));
            assertThat(after.result().get().tokenIds())
                    .containsExactly(oracle.generate(Arrays.copyOf(huge, 30), SamplingParams.greedy(3)).tokenIds());
            assertThat(engine.metrics().failed()).isEqualTo(1);
        }
    }
}
