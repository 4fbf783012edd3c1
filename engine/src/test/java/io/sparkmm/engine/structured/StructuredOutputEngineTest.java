package io.sparkmm.engine.structured;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.generate.FinishReason;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Constrained decoding through the engine on a tiny random Qwen2 with a byte-level BPE tokenizer. */
class StructuredOutputEngineTest {

    static final List<StructuredOutputs> CONSTRAINTS = List.of(
            StructuredOutputs.json("""
                    {"type": "object", "properties": {
                       "name": {"type": "string", "minLength": 1, "maxLength": 6},
                       "age": {"type": "integer", "minimum": 0, "maximum": 120},
                       "tags": {"type": "array", "items": {"enum": ["cat", "dog", "red"]}, "maxItems": 2},
                       "ok": {"type": ["boolean", "null"]}},
                     "required": ["name", "age"]}"""),
            StructuredOutputs.json("""
                    {"anyOf": [{"type": "number", "minimum": -5, "maximum": 5},
                               {"type": "string", "pattern": "^[a-c]{2}\\\\d$"}]}"""),
            StructuredOutputs.regex("(\\d{3}-[a-z]{2,4}|none)"),
            StructuredOutputs.choice(List.of("cat", "dog", "a red car", "cats")),
            StructuredOutputs.jsonObject());

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void load() {
        TinyCheckpoint.write(dir, TinyCheckpoint.Spec.qwen2());
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(dir, backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static EngineRequest request(StructuredOutputs c, long seed, int maxTokens) {
        int[] prompt = model.tokenizer().encode("Answer in the format asked: " + seed % 7, false);
        return EngineRequest.of(prompt, SamplingParams.builder().temperature(1).seed(seed).maxTokens(maxTokens)
                .structuredOutputs(c).build());
    }

    @Test
    void aThousandSampledOutputsAreAllValidOrCutByLength() throws Exception {
        int perConstraint = 200;
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            List<RequestHandle> handles = new ArrayList<>();
            for (StructuredOutputs c : CONSTRAINTS) {
                for (int i = 0; i < perConstraint; i++) {
                    handles.add(engine.submit(request(c, 1000L * CONSTRAINTS.indexOf(c) + i, 40)));
                }
            }
            int complete = 0;
            for (int i = 0; i < handles.size(); i++) {
                StructuredOutputs c = CONSTRAINTS.get(i / perConstraint);
                EngineResult r = handles.get(i).result().get();
                assertThat(r.error()).as("request %d", i).isNull();
                if (r.finishReason() == FinishReason.STOP) {
                    complete++;
                    assertThat(StructuredOracle.violation(c, r.text())).as("%s: %s", c.describe(), r.text()).isNull();
                } else {
                    assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
                    assertThat(r.completionTokens()).isEqualTo(40);
                }
            }
            // the bounded constraints (all but json_object) must end inside 40 tokens nearly always
            assertThat(complete).isGreaterThan(4 * perConstraint * 9 / 10);
        }
    }

    @Test
    void aRequestMasksTheSameAloneOrBatched() throws Exception {
        List<EngineRequest> requests = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            requests.add(request(CONSTRAINTS.get(i % CONSTRAINTS.size()), 77 + i, 24));
        }
        List<int[]> alone = new ArrayList<>();
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            for (EngineRequest r : requests) {
                alone.add(engine.submit(r).result().get().tokenIds());
            }
        }
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            List<RequestHandle> handles = new ArrayList<>();
            for (EngineRequest r : requests) {
                handles.add(engine.submit(r));
            }
            for (int i = 0; i < handles.size(); i++) {
                assertThat(handles.get(i).result().get().tokenIds()).as("request %d", i).containsExactly(alone.get(i));
            }
        }
    }

    @Test
    void badConstraintsFailAtSubmitNamingTheProblem() {
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            assertThatThrownBy(() -> engine.submit(request(StructuredOutputs.regex("(a|b"), 1, 4)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected ')'");
            assertThatThrownBy(() -> engine.submit(request(StructuredOutputs.regex("(?=a)b"), 1, 4)))
                    .hasMessageContaining("look-ahead");
            assertThatThrownBy(() -> engine.submit(request(StructuredOutputs.json("{\"type\": \"string\", \"format\": \"email\"}"), 1, 4)))
                    .hasMessageContaining("'format'").hasMessageContaining("#");
            assertThatThrownBy(() -> engine.submit(request(StructuredOutputs.json("{\"type\": \"strin\"}"), 1, 4)))
                    .hasMessageContaining("unknown type 'strin'");
            assertThatThrownBy(() -> engine.submit(request(StructuredOutputs.json("{\"type\": "), 1, 4)))
                    .hasMessageContaining("not valid JSON");
            // the engine keeps serving
            assertThat(engine.submit(request(CONSTRAINTS.get(3), 5, 8)).result().join().error()).isNull();
        }
    }
}
