package io.sparkmm.engine.models;

import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.HfFixtures.Entry;
import io.sparkmm.engine.models.HfFixtures.Image;
import io.sparkmm.engine.models.HfFixtures.Prompt;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.prompt.PlaceholderRange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real Hugging Face transformers as the oracle of the model math (src/test/python/hf_fixtures.py):
 * checkpoints saved by transformers 4.57 and 5.x themselves, and by our Java writers, load through
 * the normal path ({@link EngineSession}) and must give transformers' processor outputs (pixel
 * values within 1e-5 of its Pillow backend), its expanded prompt ids exactly, its last-position
 * logits within 2e-4 (F32 compute, other summation orders), its projected image features within
 * 2e-4, and its greedy tokens exactly, through the naive generator and the paged engine, up to the
 * first recorded near-tie (where another float order may rightly pick the runner-up).
 */
class HfConformanceTest {

    private static final double LOGIT_TOLERANCE = 2e-4;
    private static final double PIXEL_TOLERANCE = 1e-5;
    private static final double FEATURE_TOLERANCE = 2e-4;
    /**
     * transformers 5's default image backend resamples in torchvision, whose uint8 rounding differs
     * from Pillow's by at most one level: 1/255 over the smallest CLIP std.
     */
    private static final double TORCHVISION_TOLERANCE = 1 / 255.0 / 0.26130258 + 1e-5;
    private static final List<String> DEVICES = List.of("cpu-reference", "cpu");

    /** (architecture, era, device) -> what the closing note quotes. */
    private static final Map<String, Summary> SUMMARY = new TreeMap<>();

    private static final class Summary {
        int checkpoints;
        int prompts;
        double maxLogitDiff;
        double maxTopDiff;
        int naiveAgree;
        int engineAgree;
        int tokens;
        double maxPixelDiff;
        double maxFeatureDiff;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Entry e : HfFixtures.all()) {
            for (String device : DEVICES) {
                out.add(Arguments.of(e.era(), e.name(), device));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} on {2}")
    @MethodSource("cases")
    void processorLogitsAndGreedyTokensMatchTransformers(String era, String name, String device) throws Exception {
        Entry e = HfFixtures.entry(era, name);
        Summary s = new Summary();
        // a pool for these few short prompts, not the default quarter of the memory budget
        EngineOptions options = EngineOptions.defaults().withDevice(device)
                .withEngine(EngineConfig.defaults().withNumKvBlocks(128));
        try (EngineSession session = EngineSession.open(HfFixtures.path(e.resource()).toString(), options)) {
            LoadedModel model = session.model();
            assertThat(model.family().architectures()).as("family chosen for %s", e).contains(e.architecture());
            // we stop on every id transformers' generate stops on (we may know more, from the tokenizer)
            assertThat(model.eosTokenIds()).as("%s end-of-sequence ids", e).containsAll(e.eosTokenIds());
            for (Image im : e.images()) {
                compareImage(e, im, model, s);
            }

            List<EngineRequest> requests = new ArrayList<>();
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < e.prompts().size(); i++) {
                Prompt p = e.prompts().get(i);
                EngineRequest r = session.requests().build(e.name() + "#" + i, input(p), greedy(p));
                assertThat(r.promptTokenIds()).as("%s prompt %d ids after placeholder expansion", e, i)
                        .containsExactly(p.inputIds());
                requests.add(r);
            }
            // all at once, so the engine batches them
            for (EngineRequest r : requests) {
                handles.add(session.engine().submit(r));
            }

            NaiveGenerator naive = new NaiveGenerator(model.model(), model.eosTokenIds());
            for (int i = 0; i < requests.size(); i++) {
                Prompt p = e.prompts().get(i);
                EngineRequest r = requests.get(i);
                String what = e + " prompt " + i + " on " + device;
                float[] logits = naive.lastLogits(r.promptTokenIds(), r.media());
                compareLogits(logits, p, what, s);
                int[] fromNaive = naive.generate(r.promptTokenIds(), r.media(), r.sampling()).tokenIds();
                EngineResult fromEngine = handles.get(i).result().get();
                assertThat(fromEngine.error()).as(what).isNull();
                assertGreedy(fromNaive, p, what + " (naive)");
                assertGreedy(fromEngine.tokenIds(), p, what + " (engine)");
                s.naiveAgree += agreeing(fromNaive, p.greedyIds());
                s.engineAgree += agreeing(fromEngine.tokenIds(), p.greedyIds());
                s.tokens += p.greedyIds().length;
                s.prompts++;
            }
        }
        s.checkpoints = 1;
        record(e, device, s);
        System.out.printf("HF conformance %s %s (%s) on %s: max |logit diff| %.2e (top-20 %.2e), greedy %d/%d naive, "
                        + "%d/%d engine, pixels %.1e, features %.1e%n", e.era(), e.name(), e.source(), device,
                s.maxLogitDiff, s.maxTopDiff, s.naiveAgree, s.tokens, s.engineAgree, s.tokens, s.maxPixelDiff,
                s.maxFeatureDiff);
    }

    /** Pixel values of our processor against transformers', and the projected features of our encoder. */
    private static void compareImage(Entry e, Image im, LoadedModel model, Summary s) throws Exception {
        String what = e + " " + im.file();
        ProcessedItem item = model.model().processor().process("hf-" + im.file(), "image",
                MediaSource.ofPath(HfFixtures.image(im.file()).toString()), MediaLimits.defaults());
        ItemTensor pixels = item.tensors().get("pixel_values");
        assertThat(pixels.shape()).as("%s pixel_values shape", what).containsExactly(im.pixelValues().shape());
        double diff = maxSampleDiff(pixels.data(), im.pixelValues());
        assertThat(diff).as("%s pixel values vs transformers (Pillow backend)", what).isLessThanOrEqualTo(PIXEL_TOLERANCE);
        s.maxPixelDiff = Math.max(s.maxPixelDiff, diff);
        if (im.torchvisionPixelValues() != null) {
            assertThat(maxSampleDiff(pixels.data(), im.torchvisionPixelValues()))
                    .as("%s pixel values vs transformers (torchvision backend)", what)
                    .isLessThanOrEqualTo(TORCHVISION_TOLERANCE);
        }
        if (!sha256(pixels.data()).equals(im.pixelValues().sha256())) {
            // Expected now and then: the digest is over exact float bits, the check above over values.
            System.out.printf("HF conformance %s: pixel_values digest differs (values within %.1e)%n", what, diff);
        }

        int rows = im.featureShape()[0];
        int width = im.featureShape()[1];
        float[] feats;
        try (Tensor t = model.model().encode(new MediaInput(item, new PlaceholderRange(0, rows)))) {
            assertThat(t.shape()).as("%s feature shape", what).containsExactly(rows, width);
            feats = model.backend().download(t);
        }
        for (int r = 0; r < im.featureRows().length; r++) {
            for (int c = 0; c < width; c++) {
                double d = Math.abs(feats[im.featureRows()[r] * width + c] - im.features()[r][c]);
                s.maxFeatureDiff = Math.max(s.maxFeatureDiff, d);
                assertThat(d).as("%s feature row %d col %d", what, im.featureRows()[r], c)
                        .isLessThanOrEqualTo(FEATURE_TOLERANCE);
            }
        }
    }

    private static void compareLogits(float[] logits, Prompt p, String what, Summary s) {
        assertThat(logits).as("%s vocabulary", what).hasSize(p.lastLogits().length);
        for (int v = 0; v < logits.length; v++) {
            double d = Math.abs(logits[v] - p.lastLogits()[v]);
            s.maxLogitDiff = Math.max(s.maxLogitDiff, d);
            assertThat(d).as("%s logit %d", what, v).isLessThanOrEqualTo(LOGIT_TOLERANCE);
        }
        for (int k = 0; k < p.topIds().length; k++) {
            double d = Math.abs(logits[p.topIds()[k]] - p.topLogits()[k]);
            s.maxTopDiff = Math.max(s.maxTopDiff, d);
            assertThat(d).as("%s top-%d logit (id %d)", what, k, p.topIds()[k]).isLessThanOrEqualTo(LOGIT_TOLERANCE);
        }
    }

    /**
     * Token for token up to the first near-tie: there the runner-up is as right as the winner, and
     * every later token follows from that pick.
     */
    private static void assertGreedy(int[] got, Prompt p, String what) {
        int upTo = p.nearTies().isEmpty() ? p.greedyIds().length : p.nearTies().get(0);
        assertThat(got).as("%s greedy length", what).hasSize(p.greedyIds().length);
        assertThat(Arrays.copyOf(got, upTo)).as("%s greedy tokens", what)
                .containsExactly(Arrays.copyOf(p.greedyIds(), upTo));
    }

    private static int agreeing(int[] got, int[] expected) {
        int n = 0;
        while (n < Math.min(got.length, expected.length) && got[n] == expected[n]) {
            n++;
        }
        return n;
    }

    private static PromptInput input(Prompt p) {
        if (p.text() == null) {
            return new PromptInput(null, p.inputIds(), false, null, List.of(), List.of(), List.of());
        }
        List<MediaSource> images = p.images().stream()
                .map(f -> MediaSource.ofPath(HfFixtures.image(f).toString())).toList();
        return PromptInput.text(p.text(), false, images);
    }

    private static SamplingParams greedy(Prompt p) {
        // eos off, as the fixture's generate ran: every prompt yields its full count of tokens
        return SamplingParams.builder().temperature(0).maxTokens(p.greedyIds().length).ignoreEos(true).build();
    }

    private static double maxSampleDiff(float[] data, HfFixtures.Tensor expected) {
        int n = 1;
        for (int d : expected.shape()) {
            n *= d;
        }
        assertThat(data).hasSize(n);
        double worst = 0;
        for (int i = 0; i < expected.sampleIndex().length; i++) {
            worst = Math.max(worst, Math.abs(data[expected.sampleIndex()[i]] - expected.sample()[i]));
        }
        return worst;
    }

    private static String sha256(float[] data) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }

    private static synchronized void record(Entry e, String device, Summary s) {
        Summary t = SUMMARY.computeIfAbsent(e.architecture() + " " + e.era() + " " + device, k -> new Summary());
        t.checkpoints += s.checkpoints;
        t.prompts += s.prompts;
        t.maxLogitDiff = Math.max(t.maxLogitDiff, s.maxLogitDiff);
        t.maxTopDiff = Math.max(t.maxTopDiff, s.maxTopDiff);
        t.naiveAgree += s.naiveAgree;
        t.engineAgree += s.engineAgree;
        t.tokens += s.tokens;
        t.maxPixelDiff = Math.max(t.maxPixelDiff, s.maxPixelDiff);
        t.maxFeatureDiff = Math.max(t.maxFeatureDiff, s.maxFeatureDiff);
    }

    @AfterAll
    static void printSummary() {
        SUMMARY.forEach((key, t) -> System.out.printf("HF conformance summary %-50s %d checkpoints, %2d prompts: "
                        + "max |logit diff| %.2e (top-20 %.2e), greedy %d/%d naive, %d/%d engine, pixels %.1e, "
                        + "features %.1e%n", key, t.checkpoints, t.prompts, t.maxLogitDiff, t.maxTopDiff,
                t.naiveAgree, t.tokens, t.engineAgree, t.tokens, t.maxPixelDiff, t.maxFeatureDiff));
    }
}
