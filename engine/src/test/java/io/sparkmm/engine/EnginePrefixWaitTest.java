package io.sparkmm.engine;

import io.sparkmm.engine.models.llava.LlavaModel;
import io.sparkmm.engine.models.llava.LlavaTesting;
import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
import io.sparkmm.engine.models.text.TinyCheckpoint;
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
 * In-flight prefix sharing through the whole engine (EngineConfig.prefixWait): requests sharing a
 * long prefix, submitted together, compute it once, and every request's tokens equal those of the
 * same run with the wait off (the oracle: the path that computes every prefix itself).
 */
class EnginePrefixWaitTest {

    @TempDir
    static Path textDir;
    @TempDir
    static Path llavaDir;
    static Backend backend;
    static LoadedModel text;
    static LoadedModel llava;

    @BeforeAll
    static void load() {
        TinyCheckpoint.write(textDir, TinyCheckpoint.Spec.llamaGqa().withDtype(DType.BF16).withSeed(31));
        TinyLlavaCheckpoint.write(llavaDir, TinyLlavaCheckpoint.Spec.llama());
        backend = Backends.open("cpu", 2);
        text = LoadedModel.open(textDir, backend);
        llava = LoadedModel.open(llavaDir, backend);
    }

    @AfterAll
    static void close() {
        text.close();
        llava.close();
        backend.close();
    }

    /** Runs every request in one engine, all submitted back to back; results in submission order. */
    private static List<EngineResult> run(LoadedModel model, EngineConfig config, List<EngineRequest> requests,
                                          EngineMetrics[] metrics) throws Exception {
        List<RequestHandle> handles = new ArrayList<>();
        List<EngineResult> results = new ArrayList<>();
        try (Engine engine = new Engine(model, config)) {
            for (EngineRequest r : requests) {
                handles.add(engine.submit(r));
            }
            for (RequestHandle h : handles) {
                EngineResult res = h.result().get();
                assertThat(res.error()).isNull();
                results.add(res);
            }
            metrics[0] = engine.metrics();
        }
        return results;
    }

    @Test
    void requestsSharingALongPrefixSubmittedTogetherComputeItOnceWithTheSameTokens() throws Exception {
        Random rnd = new Random(5);
        int[] prefix = new int[100]; // 6 full blocks of 16, and 4 tokens of a seventh
        for (int i = 0; i < prefix.length; i++) {
            prefix[i] = rnd.nextInt(370);
        }
        List<EngineRequest> requests = new ArrayList<>();
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(6).ignoreEos(true).build();
        SamplingParams seeded = SamplingParams.builder().temperature(0.9).topP(0.9).seed(4L).maxTokens(6)
                .ignoreEos(true).build();
        for (int r = 0; r < 8; r++) {
            int[] p = java.util.Arrays.copyOf(prefix, prefix.length + 3 + r);
            for (int i = prefix.length; i < p.length; i++) {
                p[i] = rnd.nextInt(370);
            }
            requests.add(EngineRequest.of(p, r % 2 == 0 ? greedy : seeded));
        }
        EngineMetrics[] off = new EngineMetrics[1];
        EngineMetrics[] on = new EngineMetrics[1];
        List<EngineResult> expected = run(text, EngineConfig.defaults().withPrefixWait(false), requests, off);
        List<EngineResult> actual = run(text, EngineConfig.defaults(), requests, on);
        for (int r = 0; r < requests.size(); r++) {
            assertThat(actual.get(r).tokenIds()).as("request %d", r).containsExactly(expected.get(r).tokenIds());
        }
        // whichever request is admitted first computes the 96 shared tokens; every other one hits them
        long hitters = actual.stream().filter(res -> res.cachedTokens() == 96).count();
        assertThat(hitters).isEqualTo(requests.size() - 1);
        assertThat(actual.stream().filter(res -> res.cachedTokens() == 0).count()).isEqualTo(1);
        assertThat(on[0].prefixHitTokens()).isEqualTo(96L * (requests.size() - 1));
        // the wait can only save work: without it, followers admitted with the producer recompute the prefix
        assertThat(on[0].scheduledTokens()).isLessThanOrEqualTo(off[0].scheduledTokens());
        assertThat(off[0].prefixWaits()).isZero();
    }

    @Test
    void questionsAboutOneImageSubmittedTogetherShareItsBlocksAndItsEncoding() throws Exception {
        LlavaModel m = (LlavaModel) llava.model();
        int perImage = m.imageTokensPerImage();
        var vc = m.config().visionConfig();
        Random rnd = new Random(6);
        float[] pixels = new float[vc.numChannels() * vc.imageSize() * vc.imageSize()];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) rnd.nextGaussian();
        }
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(4).ignoreEos(true).build();
        List<EngineRequest> requests = new ArrayList<>();
        int before = 8;
        for (int q = 0; q < 4; q++) {
            int[] ids = new int[before + perImage + 3 + q];
            for (int i = 0; i < before; i++) {
                ids[i] = 3 + i;
            }
            java.util.Arrays.fill(ids, before, before + perImage, m.imageTokenId());
            ids[before + perImage] = 10 + q; // the questions differ from their first token on
            for (int i = before + perImage + 1; i < ids.length; i++) {
                ids[i] = 10 + rnd.nextInt(300);
            }
            requests.add(new EngineRequest(null, ids, greedy, null,
                    List.of(LlavaTesting.image("the-image", before, perImage, pixels))));
        }
        EngineConfig blocksOf4 = EngineConfig.defaults().withBlockSize(4);
        EngineMetrics[] off = new EngineMetrics[1];
        EngineMetrics[] on = new EngineMetrics[1];
        List<EngineResult> expected = run(llava, blocksOf4.withPrefixWait(false), requests, off);
        List<EngineResult> actual = run(llava, blocksOf4, requests, on);
        int sharedBlocksTokens = (before + perImage) / 4 * 4;
        for (int q = 0; q < requests.size(); q++) {
            assertThat(actual.get(q).tokenIds()).as("question %d", q).containsExactly(expected.get(q).tokenIds());
        }
        assertThat(actual.stream().filter(res -> res.cachedTokens() == sharedBlocksTokens).count()).isEqualTo(3);
        assertThat(on[0].encoderRuns()).isEqualTo(1);
    }
}
