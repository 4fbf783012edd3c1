package io.sparkmm.engine.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.llava.LlavaTesting;
import io.sparkmm.engine.models.llava.LlavaModel;
import io.sparkmm.engine.models.MediaRows;
import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Java LLaVA (CLIP tower, projector, decoder over merged embeddings) against an independent
 * PyTorch forward (src/test/python/llava_oracle.py) on the committed tiny checkpoints, with the
 * oracle's own pixel values: projected image features and the logits after prompts with one and
 * two images within 2e-4 (F32 compute, different summation orders; conv2d there, a matmul over
 * patches here), and greedy continuations token for token.
 */
class LlavaOracleTest {

    private static final double TOLERANCE = 2e-4;

    @ParameterizedTest
    @ValueSource(strings = {"cpu-reference", "cpu"})
    void featuresLogitsAndGreedyTokensMatchPyTorch(String backendName) throws Exception {
        JsonNode fixtures;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/llava_oracle.json")) {
            assertThat(in).as("fixture file").isNotNull();
            fixtures = new ObjectMapper().readTree(in);
        }
        assertThat(fixtures.get("checkpoints")).hasSize(LlavaOracleCheckpoints.specs().size());
        double worstFeature = 0;
        double worstLogit = 0;
        int prompts = 0;
        try (Backend backend = Backends.open(backendName, 2)) {
            for (JsonNode c : fixtures.get("checkpoints")) {
                String name = c.get("checkpoint").asText();
                assertThat(LlavaOracleCheckpoints.specs()).containsKey(name);
                try (Checkpoint ckpt = Checkpoint.open(resource("/checkpoints-llava/" + name));
                     LlavaModel model = LlavaTesting.load(ckpt, backend)) {
                    assertThat(model.imageTokensPerImage()).isEqualTo(c.get("tokens_per_image").asInt());
                    List<float[]> images = new ArrayList<>();
                    c.get("images").forEach(im -> images.add(floats(im)));

                    int[] rows = ints(c.get("feature_rows"));
                    for (int i = 0; i < images.size(); i++) {
                        float[] got;
                        try (Tensor f = model.encodeImage(images.get(i))) {
                            assertThat(f.shape()).containsExactly(model.imageTokensPerImage(),
                                    model.languageModel().config().hiddenSize());
                            got = backend.download(f);
                        }
                        int width = model.languageModel().config().hiddenSize();
                        for (int r = 0; r < rows.length; r++) {
                            JsonNode expected = c.get("features").get(i).get(r);
                            assertThat(expected).hasSize(width);
                            for (int col = 0; col < width; col++) {
                                double diff = Math.abs(got[rows[r] * width + col] - expected.get(col).asDouble());
                                worstFeature = Math.max(worstFeature, diff);
                                assertThat(diff).as("%s image %d feature row %d col %d", name, i, rows[r], col)
                                        .isLessThanOrEqualTo(TOLERANCE);
                            }
                        }
                    }

                    for (JsonNode p : c.get("prompts")) {
                        int[] prompt = ints(p.get("prompt_ids"));
                        List<float[]> used = new ArrayList<>();
                        p.get("image_indices").forEach(i -> used.add(images.get(i.asInt())));
                        float[] logits = LlavaTesting.lastLogits(model, prompt, used);
                        JsonNode expected = p.get("last_logits");
                        assertThat(logits).hasSize(expected.size());
                        for (int v = 0; v < logits.length; v++) {
                            double diff = Math.abs(logits[v] - expected.get(v).asDouble());
                            worstLogit = Math.max(worstLogit, diff);
                            assertThat(diff).as("%s prompt %d logit %d", name, prompts, v)
                                    .isLessThanOrEqualTo(TOLERANCE);
                        }
                        int[] greedy = ints(p.get("greedy_ids"));
                        assertThat(LlavaTesting.generate(model, Set.of(), prompt, used, SamplingParams.greedy(greedy.length)).tokenIds())
                                .as("%s greedy with %d image(s)", name, used.size()).containsExactly(greedy);
                        prompts++;
                    }
                }
            }
        }
        System.out.printf("LlavaOracleTest[%s]: %d prompts, max |feature diff| %.2e, max |logit diff| %.2e%n",
                backendName, prompts, worstFeature, worstLogit);
        assertThat(prompts).isGreaterThanOrEqualTo(9);
    }

    static Path resource(String name) throws Exception {
        return Path.of(LlavaOracleTest.class.getResource(name).toURI());
    }

    private static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
