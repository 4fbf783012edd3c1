package io.sparkmm.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.structured.StructuredOracle;
import io.sparkmm.engine.structured.StructuredOutputs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** structured_outputs and response_format from the command line, per line and for a whole run. */
class StructuredOutputCliTest {

    private static final String SCHEMA = "{\"type\": \"object\", \"properties\": {\"label\": {\"enum\": [\"cat\", \"dog\"]}, "
            + "\"score\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 9}}, \"required\": [\"label\", \"score\"]}";

    @TempDir
    static Path root;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = TinyCheckpoint.write(root.resolve("m"), TinyCheckpoint.Spec.qwen2());
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void eachLineGetsItsOwnConstraintAndABadOneFailsAlone() throws Exception {
        Path file = root.resolve("lines.jsonl");
        Files.write(file, List.of(
                "{\"prompt\": \"Tag it.\", \"seed\": 1, \"response_format\": {\"type\": \"json_schema\", \"json_schema\": "
                        + "{\"name\": \"tag\", \"schema\": " + SCHEMA + "}}}",
                "{\"prompt\": \"Code?\", \"seed\": 2, \"structured_outputs\": {\"regex\": \"[A-Z]{2}-\\\\d{2}\"}}",
                "{\"prompt\": \"Pick.\", \"seed\": 3, \"structured_outputs\": {\"choice\": [\"yes\", \"no\", \"maybe\"]}}",
                "{\"prompt\": \"Any object.\", \"seed\": 4, \"max_tokens\": 64, \"response_format\": {\"type\": \"json_object\"}}",
                "{\"prompt\": \"Broken.\", \"structured_outputs\": {\"regex\": \"(unclosed\"}}",
                "{\"prompt\": \"Both.\", \"structured_outputs\": {\"regex\": \"a\"}, \"response_format\": {\"type\": \"json_object\"}}",
                "{\"prompt\": \"Free text.\", \"seed\": 5}"));
        String[] r = run("generate", "--model", model.toString(), "--prompts-file", file.toString(), "--max-tokens", "40",
                "--temperature", "1", "--json");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        List<JsonNode> lines = new ArrayList<>();
        for (String l : r[1].split("\n")) {
            lines.add(new ObjectMapper().readTree(l));
        }
        assertThat(lines).hasSize(7);
        List<StructuredOutputs> constraints = List.of(StructuredOutputs.json(SCHEMA), StructuredOutputs.regex("[A-Z]{2}-\\d{2}"),
                StructuredOutputs.choice(List.of("yes", "no", "maybe")), StructuredOutputs.jsonObject());
        for (int i = 0; i < 3; i++) {
            JsonNode j = lines.get(i);
            assertThat(j.get("finish_reason").asText()).as(j.toString()).isEqualTo("stop");
            assertThat(StructuredOracle.violation(constraints.get(i), j.get("text").asText())).as(j.toString()).isNull();
        }
        JsonNode any = lines.get(3);
        if (any.get("finish_reason").asText().equals("stop")) {
            assertThat(StructuredOracle.violation(constraints.get(3), any.get("text").asText())).isNull();
        } else {
            assertThat(any.get("completion_tokens").asInt()).isEqualTo(64);
        }
        assertThat(lines.get(4).get("error").asText()).contains("line 5").contains("expected ')'");
        assertThat(lines.get(5).get("error").asText()).contains("line 6").contains("not both");
        assertThat(lines.get(6).has("error")).isFalse();
    }

    @Test
    void aFlagConstrainsEveryRequestAndABadFlagIsAUsageError() throws Exception {
        String[] r = run("generate", "--model", model.toString(), "--prompt", "Rate it.", "--seed", "9",
                "--structured-outputs", "{\"json\": " + SCHEMA + "}", "--max-tokens", "40", "--json");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        JsonNode j = new ObjectMapper().readTree(r[1]);
        assertThat(StructuredOracle.violation(StructuredOutputs.json(SCHEMA), j.get("text").asText())).as(r[1]).isNull();

        String[] bad = run("generate", "--model", model.toString(), "--prompt", "x", "--structured-outputs", "{\"grammar\": \"x\"}");
        assertThat(bad[0]).isEqualTo("2");
        assertThat(bad[2]).contains("--structured-outputs").contains("grammar");
        String[] both = run("generate", "--model", model.toString(), "--prompt", "x", "--structured-outputs", "{\"regex\": \"a\"}",
                "--response-format", "{\"type\": \"json_object\"}");
        assertThat(both[0]).isEqualTo("2");
        assertThat(both[2]).contains("not both");
    }
}
