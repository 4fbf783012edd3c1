package io.sparkmm.engine.tokenizer;

import io.sparkmm.engine.template.ChatTemplate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Hugging Face conformance: the Qwen3 tokenizer and chat template, run by {@link HfTokenizer} and
 * {@link ChatTemplate}, must give exactly what transformers.js gives on the committed inputs.
 *
 * <p>The oracle is {@code src/test/node/oracle.mjs}; its node_modules are installed by the
 * Maven build (see the engine pom). Nothing is skipped: without node or node_modules the test
 * fails and says what is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QwenConformanceTest {

    private static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();
    private static final Path INPUTS = Path.of("src/test/resources/conformance").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonNode oracle;
    private List<Map<String, Object>> conversations;
    private HfTokenizer tokenizer;

    @BeforeAll
    void runOracle() throws Exception {
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/@huggingface/transformers"))) {
            fail("node_modules of the conformance oracle are missing in " + NODE_DIR
                    + ": run `mvn test` (the engine build runs `npm ci` there when node_modules is absent)"
                    + " or `cd " + NODE_DIR + " && npm ci`");
        }
        Path stderr = Files.createTempFile("qwen-oracle", ".stderr");
        Process process;
        try {
            process = new ProcessBuilder("node", "oracle.mjs",
                    INPUTS.resolve("strings.json").toString(),
                    INPUTS.resolve("conversations.json").toString())
                    .directory(NODE_DIR.toFile())
                    .redirectError(stderr.toFile())
                    .start();
        } catch (IOException e) {
            throw new AssertionError("cannot start `node` for the conformance oracle (is Node.js"
                    + " installed and on the PATH?): " + e.getMessage(), e);
        }
        byte[] stdout = process.getInputStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("the node oracle did not finish within 120 s");
        }
        String errors = Files.readString(stderr, StandardCharsets.UTF_8);
        Files.deleteIfExists(stderr);
        if (process.exitValue() != 0) {
            fail("node oracle.mjs failed with exit code " + process.exitValue() + ":\n" + errors);
        }
        oracle = JSON.readTree(stdout);
        conversations = JSON.readValue(INPUTS.resolve("conversations.json").toFile(),
                new TypeReference<>() {});

        // Load the very files the oracle used, copied so that the Java side reads a model folder.
        Path source = Path.of(oracle.get("model").asText());
        Path modelDir = Files.createDirectories(Path.of("target/conformance/qwen3-tokenizer"));
        for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(source.resolve(file), modelDir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        tokenizer = HfTokenizer.load(modelDir);
    }

    @AfterAll
    void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    @Test
    void inputsAreWhatTheBriefAsksFor() {
        assertThat(oracle.get("strings")).hasSizeGreaterThanOrEqualTo(30);
        assertThat(conversations).hasSizeGreaterThanOrEqualTo(8);
    }

    @Test
    void vocabularySizeMatches() {
        assertThat(tokenizer.vocabSize()).isEqualTo(oracle.get("vocabSize").asInt());
    }

    @Test
    void encodeAndDecodeMatchTransformersJs() {
        List<String> mismatches = new ArrayList<>();
        int matched = 0;
        for (JsonNode s : oracle.get("strings")) {
            String text = s.get("text").asText();
            int[] ids = tokenizer.encode(text, false);
            List<String> problems = new ArrayList<>();
            if (!java.util.Arrays.equals(ids, ints(s.get("ids")))) {
                problems.add("ids " + java.util.Arrays.toString(ids) + " != " + s.get("ids"));
            }
            if (!java.util.Arrays.equals(tokenizer.encode(text, true), ints(s.get("idsWithSpecial")))) {
                problems.add("ids with special tokens differ");
            }
            int[] expectedIds = ints(s.get("ids"));
            if (!tokenizer.decode(expectedIds, false).equals(s.get("decoded").asText())) {
                problems.add("decode: " + JSON.valueToTree(tokenizer.decode(expectedIds, false)));
            }
            if (!tokenizer.decode(expectedIds, true).equals(s.get("decodedSkipSpecial").asText())) {
                problems.add("decode(skip_special_tokens): "
                        + JSON.valueToTree(tokenizer.decode(expectedIds, true)));
            }
            if (problems.isEmpty()) {
                matched++;
            } else {
                mismatches.add(JSON.valueToTree(text) + ": " + String.join("; ", problems));
            }
        }
        System.out.printf("Qwen3 strings: %d/%d identical to transformers.js%n", matched,
                oracle.get("strings").size());
        assertThat(mismatches).as("strings that differ from transformers.js").isEmpty();
    }

    @Test
    void chatTemplateMatchesTransformersJs() {
        ChatTemplate template = tokenizer.chatTemplate().orElseThrow();
        List<String> mismatches = new ArrayList<>();
        int matched = 0;
        JsonNode expected = oracle.get("conversations");
        for (int i = 0; i < conversations.size(); i++) {
            Map<String, Object> c = conversations.get(i);
            JsonNode want = expected.get(i);
            String name = (String) c.get("name");
            String rendered;
            try {
                rendered = template.render(messages(c), (Boolean) c.get("add_generation_prompt"),
                        extra(c));
            } catch (RuntimeException e) {
                mismatches.add(name + ": " + e);
                continue;
            }
            // The two JavaScript renderers must agree, or the oracle itself is in doubt.
            assertThat(want.get("jinja").asText()).as(name + ": @huggingface/jinja vs transformers.js")
                    .isEqualTo(want.get("rendered").asText());
            if (!rendered.equals(want.get("rendered").asText())) {
                mismatches.add(name + ":\n--- expected\n" + want.get("rendered").asText()
                        + "\n--- actual\n" + rendered);
            } else if (!java.util.Arrays.equals(tokenizer.encode(rendered, false),
                    ints(want.get("ids")))) {
                mismatches.add(name + ": prompt renders identically but its ids differ");
            } else {
                matched++;
            }
        }
        System.out.printf("Qwen3 conversations: %d/%d identical to transformers.js%n", matched,
                conversations.size());
        assertThat(mismatches).as("conversations that differ from transformers.js").isEmpty();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> messages(Map<String, Object> c) {
        return (List<Map<String, Object>>) c.get("messages");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> extra(Map<String, Object> c) {
        Object extra = c.get("extra");
        return extra == null ? Map.of() : (Map<String, Object>) extra;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
