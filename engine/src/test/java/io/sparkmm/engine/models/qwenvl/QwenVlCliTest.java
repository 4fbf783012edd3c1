package io.sparkmm.engine.models.qwenvl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.cli.Main;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Qwen-VL from the command line: listed by {@code models}, written by {@code tiny-checkpoint
 * --arch qwen-vl}, and {@code generate --image} in chat mode and with a plain
 * {@code <img>...</img>} prompt, the engine agreeing with the naive path; a prompts file whose bad
 * line fails alone.
 */
class QwenVlCliTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path image;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("qwen-vl");
        String[] w = run("tiny-checkpoint", "--arch", "qwen-vl", "--out", model.toString());
        assertThat(w[0]).as(w[2]).isEqualTo("0");
        image = Files.write(dir.resolve("picture.png"), QwenVlTesting.png("grad90x60"));
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void theModelsCommandListsQwenVlWithImages() {
        String[] r = run("models");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        String line = r[1].lines().filter(l -> l.contains("QWenLMHeadModel")).findFirst().orElseThrow();
        assertThat(line).contains("qwen-vl").contains("image");
    }

    @Test
    void anImageInChatModeAndInAPlainPromptGiveTheNaivePathsTokens() throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (String[] prompt : new String[][] {{"--chat", "--prompt", "What is in the picture?"},
                {"--prompt", "Picture 1: <img>" + image + "</img>\nWhat is in the picture?"}}) {
            String[] common = {"generate", "--model", model.toString(), "--image", image.toString(), "--max-tokens", "5",
                    "--temperature", "0", "--json"};
            String[] args = concat(common, prompt);
            String[] engine = run(args);
            String[] naive = run(concat(args, "--naive"));
            assertThat(engine[0]).as(engine[2]).isEqualTo("0");
            assertThat(naive[0]).as(naive[2]).isEqualTo("0");
            JsonNode e = json.readTree(engine[1]);
            assertThat(e.has("error")).as(engine[1]).isFalse();
            assertThat(e.get("token_ids")).hasSize(5).isEqualTo(json.readTree(naive[1]).get("token_ids"));
            // <img>, 256 pads, </img> and the text around them
            assertThat(e.get("prompt_tokens").asInt()).isGreaterThan(258);
        }
    }

    @Test
    void aPromptsFileWithImagesPerLineFailsItsBadLineAlone() throws Exception {
        Path file = dir.resolve("prompts.jsonl");
        Files.writeString(file, String.join("\n",
                "{\"prompt\": \"Picture 1: <img></img>\\nwhat\", \"images\": [\"" + image + "\"]}",
                "{\"prompt\": \"Picture 1: <img></img>\\nPicture 2: <img></img>\\ntwo\", \"images\": [\"" + image + "\"]}",
                "{\"prompt\": \"<img>unclosed\", \"images\": [\"" + image + "\"]}",
                "{\"prompt\": \"Describe.\", \"chat\": true, \"images\": [\"" + image + "\"]}") + "\n");
        String[] r = run("generate", "--model", model.toString(), "--prompts-file", file.toString(), "--max-tokens", "2",
                "--json");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        ObjectMapper json = new ObjectMapper();
        JsonNode[] lines = r[1].lines().map(l -> {
            try {
                return json.readTree(l);
            } catch (Exception ex) {
                throw new IllegalStateException(l, ex);
            }
        }).toArray(JsonNode[]::new);
        assertThat(lines).hasSize(4);
        assertThat(lines[0].has("error")).as(lines[0].toString()).isFalse();
        assertThat(lines[1].get("error").asText()).startsWith("line 2: ").contains("<img></img>");
        assertThat(lines[2].get("error").asText()).startsWith("line 3: ").contains("unclosed image reference");
        assertThat(lines[3].has("error")).as(lines[3].toString()).isFalse();
        assertThat(lines[3].get("token_ids")).hasSize(2);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
