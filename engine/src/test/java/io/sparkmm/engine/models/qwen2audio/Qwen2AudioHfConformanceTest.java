package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.audio.WhisperFeatureExtractor;
import io.sparkmm.processors.audio.WhisperFeatureExtractorConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Against transformers' Qwen2AudioProcessor and Qwen2AudioForConditionalGeneration
 * (src/test/python/qwen2audio_fixtures.py, transformers 5.18): audio token counts, feature lengths
 * and log-mel values for clips of 1 sample to 35 s, and the audio tower's and projector's outputs
 * on a tiny random checkpoint.
 *
 * <p>Tolerances: the features get the transformers.js conformance's 1e-5 (both sides compute the
 * same formulas in float32/float64; measured 1.4e-6). The encoder and projector get 2e-5: both CPU
 * backends measured 2.3e-6 (float32 summation order through 2 layers), and 2e-5 still fails the
 * two mistakes tried on the padding (attending to a padded key of an odd-length clip: 7.5e-3 off;
 * zeros instead of the extractor's padding frames under conv1: 6.4e-3 off).
 */
class Qwen2AudioHfConformanceTest {

    private static final Path RES = Path.of("src/test/resources/qwen2audio");
    private static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny");
    private static final double FEATURE_TOLERANCE = 1e-5;
    private static final double ENCODER_TOLERANCE = 2e-5;

    private static JsonNode fixtures() throws Exception {
        return new ObjectMapper().readTree(RES.resolve("qwen2audio_fixtures.json").toFile());
    }

    private static WhisperFeatureExtractor extractor() {
        return new WhisperFeatureExtractor(WhisperFeatureExtractorConfig.load(RES.resolve("preprocessor_config.json")));
    }

    @Test
    void featureLengthsAndTokenCountsMatchTheProcessor() throws Exception {
        JsonNode fx = fixtures();
        WhisperFeatureExtractor x = extractor();
        JsonNode vocab = fx.get("vocab");
        int audio = vocab.get("<|AUDIO|>").asInt();
        assertThat(fx.get("processor")).hasSizeGreaterThan(10);
        for (JsonNode c : fx.get("processor")) {
            int n = c.get("samples").asInt();
            int frames = x.numValidFrames(n);
            int tokens = Qwen2AudioLengths.audioTokens(frames);
            assertThat(frames).as("feature mask sum, %d samples", n).isEqualTo(c.get("feature_mask_sum").asInt());
            assertThat(tokens).as("<|AUDIO|> tokens, %d samples", n).isEqualTo(c.get("audio_tokens").asInt());
            assertThat(x.numFrames()).isEqualTo(c.get("feature_mask_length").asInt());
            assertThat(new int[] {x.numMels(), x.numFrames()}).as("features shape")
                    .containsExactly(c.get("features_shape").get(0).asInt(), c.get("features_shape").get(1).asInt());
            // The processor's expansion: <|audio_bos|>, `tokens` x <|AUDIO|>, <|audio_eos|>, then the words.
            List<Integer> expected = new ArrayList<>();
            expected.add(vocab.get("<|audio_bos|>").asInt());
            for (int i = 0; i < tokens; i++) {
                expected.add(audio);
            }
            expected.add(vocab.get("<|audio_eos|>").asInt());
            for (String w : new String[] {"what", "is", "this", "sound", "?"}) {
                expected.add(vocab.get(w).asInt());
            }
            List<Integer> ids = new ArrayList<>();
            c.get("input_ids").forEach(v -> ids.add(v.asInt()));
            assertThat(ids).as("input_ids, %d samples", n).isEqualTo(expected);
        }
    }

    @Test
    void tokenCountsFollowPythonFloorDivision() {
        // From the fixture's cases (1..2 frames give 0 tokens), spelled out so a `/` in place of floorDiv fails here too.
        assertThat(Qwen2AudioLengths.audioTokens(0)).isZero();
        assertThat(Qwen2AudioLengths.audioTokens(1)).isZero();
        assertThat(Qwen2AudioLengths.audioTokens(2)).isZero();
        assertThat(Qwen2AudioLengths.audioTokens(10)).isEqualTo(2);
        assertThat(Qwen2AudioLengths.audioTokens(3000)).isEqualTo(750);
        assertThatThrownBy(() -> Qwen2AudioLengths.audioTokens(-1)).hasMessageContaining("-1");
    }

    @Test
    void featuresMatchTheProcessor() throws Exception {
        WhisperFeatureExtractor x = extractor();
        assertThat(x.numMels()).isEqualTo(128);
        double worst = 0;
        for (JsonNode c : fixtures().get("processor")) {
            int n = c.get("samples").asInt();
            float[] f = x.extract(Qwen2AudioTestClips.clip(n, c.get("seed").asLong()));
            JsonNode first = c.get("features_row0_first8");
            for (int i = 0; i < first.size(); i++) {
                worst = Math.max(worst, check(f[i], first.get(i).asDouble(), FEATURE_TOLERANCE, n + " samples, [0," + i + "]"));
            }
            JsonNode sp = c.get("features_spaced");
            for (int i = 0; i < sp.get("index").size(); i++) {
                int at = sp.get("index").get(i).asInt();
                worst = Math.max(worst, check(f[at], sp.get("value").get(i).asDouble(), FEATURE_TOLERANCE,
                        n + " samples, flat " + at));
            }
            double mean = 0;
            for (float v : f) {
                mean += v;
            }
            check(mean / f.length, c.get("features_mean").asDouble(), FEATURE_TOLERANCE, n + " samples, mean");
        }
        System.out.printf(Locale.ROOT, "Qwen2-Audio features vs transformers: max |diff| %.3g%n", worst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu-reference", "cpu"})
    void encoderAndProjectorMatchTransformers(String device) throws Exception {
        JsonNode fx = fixtures();
        WhisperFeatureExtractor x = extractor();
        double worst = 0;
        try (Backend backend = Backends.open(device, 2);
             Checkpoint ckpt = Checkpoint.open(CKPT)) {
            Qwen2AudioEncoderConfig c = Qwen2AudioEncoderConfig.parse(ckpt.configJson().object("audio_config"));
            int textHidden = ckpt.configJson().object("text_config").requireInt("hidden_size");
            assertThat(new int[] {c.dModel(), c.numLayers(), c.numHeads(), c.numMelBins(), c.inputFrames()})
                    .containsExactly(32, 2, 2, 128, 3000);
            WeightLoader loader = new WeightLoader(ckpt, backend);
            try (Qwen2AudioEncoder encoder = Qwen2AudioEncoder.load(loader, c, "audio_tower.");
                 Qwen2AudioProjector projector = Qwen2AudioProjector.load(loader, "multi_modal_projector.",
                         c.dModel(), textHidden)) {
                assertThat(fx.get("encoder_cases")).hasSizeGreaterThanOrEqualTo(3);
                for (JsonNode e : fx.get("encoder_cases")) {
                    int n = e.get("samples").asInt();
                    float[] feats = x.extract(Qwen2AudioTestClips.clip(n, e.get("seed").asLong()));
                    try (Tensor enc = encoder.encode(feats, x.numValidFrames(n));
                         Tensor proj = projector.forward(enc)) {
                        worst = Math.max(worst, compare(backend, enc, e.get("encoder"), device + " encoder " + n));
                        worst = Math.max(worst, compare(backend, proj, e.get("projected"), device + " projector " + n));
                    }
                }
                assertThatThrownBy(() -> encoder.encode(new float[10], 100)).hasMessageContaining("128 mels x 3000");
                assertThatThrownBy(() -> encoder.encode(x.extract(new float[320]), 2))
                        .hasMessageContaining("no audio token");
            }
        }
        System.out.printf(Locale.ROOT, "Qwen2-Audio encoder+projector (%s) vs transformers: worst |diff| %.3g%n",
                device, worst);
    }

    private static double compare(Backend backend, Tensor t, JsonNode expected, String what) {
        int rows = expected.get("shape").get(0).asInt();
        int cols = expected.get("shape").get(1).asInt();
        assertThat(t.shape()).as(what + " shape").containsExactly(rows, cols);
        float[] got = backend.download(t);
        double worst = 0;
        var it = expected.get("rows").fields();
        while (it.hasNext()) {
            var row = it.next();
            int r = Integer.parseInt(row.getKey());
            for (int j = 0; j < cols; j++) {
                worst = Math.max(worst, check(got[r * cols + j], row.getValue().get(j).asDouble(), ENCODER_TOLERANCE,
                        what + " [" + r + "," + j + "]"));
            }
        }
        JsonNode sp = expected.get("spaced");
        for (int i = 0; i < sp.get("index").size(); i++) {
            int at = sp.get("index").get(i).asInt();
            worst = Math.max(worst, check(got[at], sp.get("value").get(i).asDouble(), ENCODER_TOLERANCE,
                    what + " flat " + at));
        }
        return worst;
    }

    private static double check(double got, double want, double tolerance, String what) {
        double diff = Math.abs(got - want);
        assertThat(diff).as("%s: got %s, transformers %s", what, got, want).isLessThanOrEqualTo(tolerance);
        return diff;
    }
}
