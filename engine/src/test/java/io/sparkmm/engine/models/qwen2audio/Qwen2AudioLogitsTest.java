package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.audio.WhisperFeatureExtractor;
import io.sparkmm.processors.audio.WhisperFeatureExtractorConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole tiny Qwen2AudioForConditionalGeneration against transformers' logits
 * (qwen2audio_fixtures.py): our features, audio tower and projector, their rows put in place of the
 * {@code <|AUDIO|>} embeddings, then the shared Qwen2 decoder over positions 0..n-1. Composed here
 * by hand, ahead of the family plumbing (config, naming, processor, registration) that will do it
 * for the engine. The first position (before any audio) checks the decoder alone; the last one
 * reads every audio row through attention.
 *
 * <p>Tolerance 1e-5: measured worst |diff| 1.2e-6 (cpu-reference) and 9.1e-7 (cpu); leaving the audio
 * rows out (text embeddings of {@code <|AUDIO|>} instead) moves the last logits by 0.17.
 */
class Qwen2AudioLogitsTest {

    private static final Path RES = Path.of("src/test/resources/qwen2audio");
    private static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny");
    private static final double TOLERANCE = 1e-5;
    /** Where transformers 5.18's save_pretrained put the decoder and the head (the fixture lists every name). */
    private static final String TEXT_PREFIX = "language_model.model.model.";
    private static final String LM_HEAD = "language_model.lm_head.weight";

    @ParameterizedTest
    @ValueSource(strings = {"cpu-reference", "cpu"})
    void logitsMatchTransformers(String device) throws Exception {
        JsonNode fx = new ObjectMapper().readTree(RES.resolve("qwen2audio_fixtures.json").toFile());
        assertThat(fx.get("tensor_names").toString()).contains("\"" + TEXT_PREFIX + "embed_tokens.weight\"",
                "\"" + LM_HEAD + "\"");
        int audioId = fx.get("vocab").get("<|AUDIO|>").asInt();
        WhisperFeatureExtractor x = new WhisperFeatureExtractor(
                WhisperFeatureExtractorConfig.load(RES.resolve("preprocessor_config.json")));
        double worst = 0;
        try (Backend backend = Backends.open(device, 2);
             Checkpoint ckpt = Checkpoint.open(CKPT)) {
            Qwen2AudioEncoderConfig ac = Qwen2AudioEncoderConfig.parse(ckpt.configJson().object("audio_config"));
            ModelConfig tc = ModelConfig.parse(ckpt.configJson().object("text_config"), "qwen2");
            WeightLoader loader = new WeightLoader(ckpt, backend);
            try (Qwen2AudioEncoder encoder = Qwen2AudioEncoder.load(loader, ac, "audio_tower.");
                 Qwen2AudioProjector projector = Qwen2AudioProjector.load(loader, "multi_modal_projector.",
                         ac.dModel(), tc.hiddenSize());
                 DecoderModel text = new DecoderModel(tc, backend,
                         DecoderWeights.load(ckpt, tc, backend, TEXT_PREFIX, LM_HEAD))) {
                for (JsonNode c : fx.get("encoder_cases")) {
                    int n = c.get("samples").asInt();
                    int[] ids = new int[c.get("input_ids").size()];
                    Arrays.setAll(ids, i -> c.get("input_ids").get(i).asInt());
                    int first = -1;
                    int count = 0;
                    for (int i = 0; i < ids.length; i++) {
                        if (ids[i] == audioId) {
                            first = first < 0 ? i : first;
                            count++;
                        }
                    }
                    assertThat(count).isEqualTo(Qwen2AudioLengths.audioTokens(x.numValidFrames(n)));
                    int[] positions = new int[ids.length];
                    Arrays.setAll(positions, i -> i);
                    float[] feats = x.extract(Qwen2AudioTestClips.clip(n, c.get("seed").asLong()));
                    try (Tensor enc = encoder.encode(feats, x.numValidFrames(n));
                         Tensor audio = projector.forward(enc);
                         Tensor hidden = text.embed(ids)) {
                        // The processor writes the audio tokens as one contiguous run.
                        backend.copyRows(audio, 0, hidden, first, count);
                        text.forwardLayers(hidden, positions);
                        worst = Math.max(worst, compare(text.logitsOfRow(hidden, 0), c.get("first_logits"),
                                device + " " + n + " samples, position 0"));
                        worst = Math.max(worst, compare(text.logitsOfRow(hidden, ids.length - 1), c.get("last_logits"),
                                device + " " + n + " samples, last position"));
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "Qwen2-Audio tiny model logits (%s) vs transformers: worst |diff| %.3g%n",
                device, worst);
    }

    private static double compare(float[] got, JsonNode want, String what) {
        assertThat(got).as(what).hasSize(want.size());
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            double diff = Math.abs(got[i] - want.get(i).asDouble());
            assertThat(diff).as("%s, logit %d: got %s, transformers %s", what, i, got[i], want.get(i))
                    .isLessThanOrEqualTo(TOLERANCE);
            worst = Math.max(worst, diff);
        }
        return worst;
    }
}
