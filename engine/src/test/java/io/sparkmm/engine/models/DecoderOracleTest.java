package io.sparkmm.engine.models;

import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.models.FamilyModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The Java decoder against an independent PyTorch forward (src/test/python/decoder_oracle.py)
 * on the committed tiny checkpoints: the logits after each prompt within 2e-4 (F32 compute, a
 * different summation order), and the greedy continuation token for token.
 */
class DecoderOracleTest {

    private static final double LOGIT_TOLERANCE = 2e-4;

    @ParameterizedTest
    @ValueSource(strings = {"cpu-reference", "cpu"})
    void logitsAndGreedyTokensMatchPyTorch(String backendName) throws Exception {
        JsonNode fixtures;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/decoder_oracle.json")) {
            assertThat(in).as("fixture file").isNotNull();
            fixtures = new ObjectMapper().readTree(in);
        }
        int cases = 0;
        try (Backend backend = Backends.open(backendName, 2)) {
            for (String name : OracleCheckpoints.specs().keySet()) {
                try (Checkpoint ckpt = Checkpoint.open(resource("/checkpoints/" + name));
                     FamilyModel model = ModelFamilies.load(ckpt, backend)) {
                    NaiveGenerator gen = new NaiveGenerator(model, Set.of());
                    for (JsonNode c : fixtures.get("cases")) {
                        if (!c.get("checkpoint").asText().equals(name)) {
                            continue;
                        }
                        int[] prompt = ints(c.get("prompt_ids"));
                        float[] logits = gen.lastLogits(prompt);
                        JsonNode expected = c.get("last_logits");
                        assertThat(logits).hasSize(expected.size());
                        for (int v = 0; v < logits.length; v++) {
                            assertThat((double) logits[v]).as("%s logit %d", name, v)
                                    .isCloseTo(expected.get(v).asDouble(), within(LOGIT_TOLERANCE));
                        }
                        int[] greedy = ints(c.get("greedy_ids"));
                        assertThat(gen.generate(prompt, SamplingParams.greedy(greedy.length)).tokenIds())
                                .as("%s greedy", name).containsExactly(greedy);
                        cases++;
                    }
                }
            }
        }
        assertThat(cases).isEqualTo(fixtures.get("cases").size()).isGreaterThanOrEqualTo(16);
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(DecoderOracleTest.class.getResource(name).toURI());
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
