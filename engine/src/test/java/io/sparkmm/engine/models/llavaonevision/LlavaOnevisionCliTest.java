package io.sparkmm.engine.models.llavaonevision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.cli.Main;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * LLaVA-OneVision from the command line on the tiny checkpoint transformers wrote: the models
 * listing, and {@code --image} with a chat prompt and with a plain prompt, whose greedy tokens must
 * be the ones transformers generated for the same image and prompt (fixtures.json).
 */
class LlavaOnevisionCliTest {

    static Path model;
    static Path image;
    static JsonNode fixtures;

    @BeforeAll
    static void setUp() throws Exception {
        model = Path.of(LlavaOnevisionCliTest.class.getResource("/llava_onevision/tiny").toURI());
        image = Path.of(LlavaOnevisionCliTest.class.getResource("/llava_onevision/images/ov-40x30.png").toURI());
        try (InputStream in = LlavaOnevisionCliTest.class.getResourceAsStream("/llava_onevision/fixtures.json")) {
            fixtures = new ObjectMapper().readTree(in);
        }
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    private static JsonNode fixture(String name) {
        for (JsonNode c : fixtures.get("cases")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new IllegalStateException("no fixture case " + name);
    }

    @Test
    void theModelsCommandListsTheFamilyForImages() {
        String[] r = run("models");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        String line = r[1].lines().filter(l -> l.contains("LlavaOnevisionForConditionalGeneration")).findFirst()
                .orElseThrow(() -> new AssertionError("not listed:\n" + r[1]));
        assertThat(line).contains("llava-onevision").contains("image");
    }

    @Test
    void aChatPromptWithAnImageGivesTransformersGreedyTokens() throws Exception {
        JsonNode c = fixture("ov-40x30.png chat");
        check(c, "--prompt", c.get("question").asText(), "--chat");
    }

    @Test
    void aPlainPromptWithItsOwnImageTokenGivesTransformersGreedyTokens() throws Exception {
        JsonNode c = fixture("ov-40x30.png plain");
        check(c, "--prompt", c.get("prompt_text").asText());
    }

    private static void check(JsonNode c, String... prompt) throws Exception {
        String[] common = {"generate", "--model", model.toString(), "--image", image.toString(), "--max-tokens", "8",
                "--temperature", "0", "--json"};
        String[] args = java.util.Arrays.copyOf(common, common.length + prompt.length);
        System.arraycopy(prompt, 0, args, common.length, prompt.length);
        String[] r = run(args);
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        JsonNode out = new ObjectMapper().readTree(r[1]);
        assertThat(out.get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
        assertThat(out.get("token_ids")).isEqualTo(c.get("greedy_ids"));
    }
}
