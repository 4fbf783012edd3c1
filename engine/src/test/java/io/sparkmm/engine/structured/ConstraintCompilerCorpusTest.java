package io.sparkmm.engine.structured;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The compilers against independent oracles on randomized corpora: every string sampled from a
 * compiled JSON schema validates with networknt's validator; a compiled regex accepts exactly what
 * java.util.regex matches in full, on random strings over the pattern's alphabet.
 */
class ConstraintCompilerCorpusTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void randomSchemasOnlyEverProduceValidDocuments() {
        Random rnd = new Random(20261202);
        int documents = 0;
        for (int i = 0; i < 60; i++) {
            ObjectNode schema = randomSchema(rnd, 3, true);
            StructuredOutputs c = StructuredOutputs.json(schema.toString());
            DfaSampler sampler = new DfaSampler(ByteDfa.of(c.automaton(), c.describe()));
            for (int k = 0; k < 15; k++) {
                String doc = sampler.sample(rnd, 120);
                assertThat(StructuredOracle.violation(c, doc)).as("schema %s, document %s", schema, doc).isNull();
                documents++;
            }
        }
        assertThat(documents).isEqualTo(900);
    }

    @Test
    void regexesAcceptExactlyWhatJavaRegexMatches() {
        List<String> patterns = List.of("\\d{3}-[a-z]{2,4}", "(ab|a)*c?", "[^a-c]x+", "a.b", "(?:x|yz){2}\\w",
                "[\\d\\s]{1,3}", "\\[\\]\\(\\)", "colou?r|gr[ae]y", "[a-c-]+", "\\x41\\u00e9+", "x{2,}y{0,2}",
                "(?<n>ab)+", "é|ü{1,2}", "\\S\\W");
        Random rnd = new Random(7);
        String alphabet = "abcxyz019 -_[](){},é\u00fc\tAr";
        for (String p : patterns) {
            ByteDfa dfa = ByteDfa.of(RegexCompiler.compile(p), p);
            // UNIX_LINES: '.' excludes only '\n', as in Python (Java also excludes '\r' and U+2028 otherwise)
            Pattern java = Pattern.compile(p, Pattern.UNIX_LINES);
            DfaSampler sampler = new DfaSampler(dfa);
            for (int k = 0; k < 300; k++) {
                StringBuilder sb = new StringBuilder();
                int len = rnd.nextInt(7);
                for (int j = 0; j < len; j++) {
                    sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
                }
                String s = sb.toString();
                assertThat(dfa.matches(s.getBytes(StandardCharsets.UTF_8))).as("%s on %s", p, s)
                        .isEqualTo(java.matcher(s).matches());
                String member = sampler.sample(rnd, 12);
                assertThat(java.matcher(member).matches()).as("%s sampled %s", p, member).isTrue();
            }
        }
    }

    @Test
    void unsupportedSyntaxIsNamed() {
        assertThatThrownBy(() -> RegexCompiler.compile("(a)\\1")).hasMessageContaining("back-references");
        assertThatThrownBy(() -> RegexCompiler.compile("a\\bb")).hasMessageContaining("\\b");
        assertThatThrownBy(() -> RegexCompiler.compile("a{3,2}")).hasMessageContaining("max < min");
        assertThatThrownBy(() -> JsonSchemaCompiler.compile("{\"type\": \"array\", \"uniqueItems\": true}"))
                .hasMessageContaining("'uniqueItems'");
        assertThatThrownBy(() -> JsonSchemaCompiler.compile(
                "{\"$defs\": {\"n\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/n\"}}}, \"$ref\": \"#/$defs/n\"}"))
                .hasMessageContaining("recursive");
    }

    /** A random schema of the supported keywords, nested up to {@code depth}. */
    static ObjectNode randomSchema(Random rnd, int depth, boolean top) {
        ObjectNode s = JSON.createObjectNode();
        int kind = top ? 0 : rnd.nextInt(depth > 0 ? 9 : 7);
        switch (kind) {
            case 0 -> {
                s.put("type", "object");
                ObjectNode props = s.putObject("properties");
                ArrayNode required = s.putArray("required");
                int n = 1 + rnd.nextInt(3);
                for (int i = 0; i < n; i++) {
                    String name = "p" + i + (rnd.nextBoolean() ? "_x" : "");
                    props.set(name, depth > 0 ? randomSchema(rnd, depth - 1, false) : randomSchema(rnd, 0, false));
                    if (rnd.nextBoolean()) {
                        required.add(name);
                    }
                }
            }
            case 1 -> {
                s.put("type", "string");
                int min = rnd.nextInt(3);
                s.put("minLength", min);
                s.put("maxLength", min + rnd.nextInt(5));
            }
            case 2 -> {
                s.put("type", "integer");
                int lo = rnd.nextInt(200) - 100;
                if (rnd.nextBoolean()) {
                    s.put("minimum", lo);
                }
                if (rnd.nextBoolean()) {
                    s.put("maximum", lo + rnd.nextInt(300));
                }
            }
            case 3 -> {
                s.put("type", "number");
                double lo = (rnd.nextInt(400) - 200) / 16.0;
                s.put(rnd.nextBoolean() ? "minimum" : "exclusiveMinimum", lo);
                s.put(rnd.nextBoolean() ? "maximum" : "exclusiveMaximum", lo + 0.0625 + rnd.nextInt(80) / 8.0);
            }
            case 4 -> s.put("type", rnd.nextBoolean() ? "boolean" : "null");
            case 5 -> {
                ArrayNode e = s.putArray("enum");
                e.add("a\"b").add(3).add(JSON.createObjectNode().put("k", true)).addNull();
            }
            case 6 -> {
                s.put("type", "string");
                s.put("pattern", "^[a-f0-9]{2,5}$");
            }
            case 7 -> {
                s.put("type", "array");
                s.set("items", randomSchema(rnd, depth - 1, false));
                int min = rnd.nextInt(2);
                s.put("minItems", min);
                s.put("maxItems", min + rnd.nextInt(3));
            }
            default -> {
                ArrayNode any = s.putArray("anyOf");
                any.add(randomSchema(rnd, depth - 1, false));
                any.add(randomSchema(rnd, depth - 1, false));
                if (rnd.nextBoolean()) {
                    any.add(JSON.createObjectNode().put("type", "null"));
                }
            }
        }
        return s;
    }
}
