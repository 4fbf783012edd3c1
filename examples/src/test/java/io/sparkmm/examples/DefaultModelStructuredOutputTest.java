package io.sparkmm.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Structured output on the shipped default model from the command line: its word-level vocabulary
 * (33 words, a WordPiece decoder that joins words with spaces) can answer a choice, sampled at
 * temperature 1, and the constrained answers stay right; it has no token that can start JSON, and
 * asking for JSON says so on that line alone.
 */
class DefaultModelStructuredOutputTest {

    @TempDir
    static Path dir;

    @Test
    void choicesConstrainTheAnswerAndJsonIsRefusedByName() throws Exception {
        Random rnd = new Random(20261202);
        List<String> lines = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        String shapes = json.writeValueAsString(ShapeImages.SHAPES);
        // whole descriptions exercise the decoder's spaces: "a" is the first token, then " red", " circle", ...
        List<String> described = new ArrayList<>();
        for (String c : ShapeImages.COLORS.keySet()) {
            for (String s : ShapeImages.SHAPES) {
                for (String b : ShapeImages.BACKGROUNDS.keySet()) {
                    described.add(ShapeImages.answer(0, c, s, b));
                }
            }
        }
        for (int i = 0; i < 30; i++) {
            ShapeImages.Example e = ShapeImages.random(rnd);
            Path png = dir.resolve("shape-" + i + ".png");
            e.writePng(png);
            lines.add("{\"prompt\": \"What shape is this?\", \"chat\": true, \"images\": \"" + png + "\", \"temperature\": 1, "
                    + "\"seed\": " + i + ", \"structured_outputs\": {\"choice\": " + shapes + "}}");
            expected.add(e.shape());
            if (i < 10) {
                lines.add("{\"prompt\": \"Describe the image.\", \"chat\": true, \"images\": \"" + png + "\", \"temperature\": 0, "
                        + "\"max_tokens\": 10, \"structured_outputs\": {\"choice\": " + json.writeValueAsString(described) + "}}");
                expected.add(e.answer(0));
            }
        }
        lines.add("{\"prompt\": \"Describe the image.\", \"chat\": true, \"images\": \"" + dir.resolve("shape-0.png")
                + "\", \"response_format\": {\"type\": \"json_object\"}}");
        Path file = dir.resolve("lines.jsonl");
        Files.write(file, lines);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"generate", "--model", DefaultModel.LOCATION, "--prompts-file", file.toString(),
                "--max-tokens", "4", "--json"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        String[] results = out.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(results).hasSize(lines.size());
        int right = 0;
        for (int i = 0; i < expected.size(); i++) {
            JsonNode r = json.readTree(results[i]);
            assertThat(r.get("finish_reason").asText()).as(results[i]).isEqualTo("stop");
            String text = r.get("text").asText();
            assertThat(lines.get(i).contains("Describe") ? described : ShapeImages.SHAPES).as(results[i]).contains(text);
            right += text.equals(expected.get(i)) ? 1 : 0;
        }
        // the model answers these exactly without constraints (DefaultModelAccuracyTest); a constraint
        // that only removes impossible tokens must not make it worse
        assertThat(right).isGreaterThanOrEqualTo(expected.size() - 1);
        JsonNode refused = json.readTree(results[results.length - 1]);
        assertThat(refused.get("error").asText()).contains("no token of the model's vocabulary can start an output of json_object");
    }
}
