package io.sparkmm.engine.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.lucene.util.automaton.Automaton;
import org.apache.lucene.util.automaton.Operations;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a request's output must match, under vLLM's names: {@code choice} (one of the strings),
 * {@code regex} (the pattern in full), {@code json} (a JSON Schema) or {@code json_object} (any
 * JSON object). Immutable; {@link #key()} identifies equal constraints for the index cache.
 *
 * @param kind which constraint
 * @param spec the regex, the schema JSON, or null (choice and json_object)
 * @param choices the choices (choice only)
 */
public record StructuredOutputs(Kind kind, String spec, List<String> choices) {

    public enum Kind { CHOICE, REGEX, JSON, JSON_OBJECT }

    /** Nesting allowed inside a json_object output. */
    static final int JSON_OBJECT_DEPTH = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    public StructuredOutputs {
        Objects.requireNonNull(kind, "kind");
        choices = choices == null ? List.of() : List.copyOf(choices);
        if (kind == Kind.CHOICE && choices.isEmpty()) {
            throw new IllegalArgumentException("structured output choice needs at least one string");
        }
        if ((kind == Kind.REGEX || kind == Kind.JSON) && (spec == null || spec.isEmpty())) {
            throw new IllegalArgumentException("structured output " + kind.name().toLowerCase() + " needs a non-empty value");
        }
    }

    public static StructuredOutputs choice(List<String> choices) {
        return new StructuredOutputs(Kind.CHOICE, null, choices);
    }

    public static StructuredOutputs regex(String pattern) {
        return new StructuredOutputs(Kind.REGEX, pattern, null);
    }

    public static StructuredOutputs json(String schema) {
        return new StructuredOutputs(Kind.JSON, schema, null);
    }

    public static StructuredOutputs jsonObject() {
        return new StructuredOutputs(Kind.JSON_OBJECT, null, null);
    }

    /**
     * vLLM's {@code structured_outputs} object: exactly one of {@code json} (a schema object or its
     * JSON text), {@code regex}, {@code choice}, {@code json_object: true}.
     */
    public static StructuredOutputs fromVllm(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("structured_outputs must be an object with one of json, regex, choice, json_object");
        }
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        keys.removeIf(k -> node.get(k).isNull() || (k.equals("json_object") && !node.get(k).asBoolean()));
        if (keys.size() != 1) {
            throw new IllegalArgumentException("structured_outputs needs exactly one of json, regex, choice, json_object; got " + keys);
        }
        JsonNode v = node.get(keys.get(0));
        return switch (keys.get(0)) {
            case "json" -> json(v.isTextual() ? v.asText() : v.toString());
            case "regex" -> regex(text(v, "structured_outputs.regex"));
            case "choice" -> {
                if (!v.isArray()) {
                    throw new IllegalArgumentException("structured_outputs.choice must be a list of strings");
                }
                List<String> c = new ArrayList<>();
                v.forEach(x -> c.add(text(x, "structured_outputs.choice[]")));
                yield choice(c);
            }
            case "json_object" -> jsonObject();
            default -> throw new IllegalArgumentException("structured_outputs: unknown key '" + keys.get(0)
                    + "'; one of json, regex, choice, json_object");
        };
    }

    /** OpenAI's {@code response_format}: {@code {"type": "json_schema", "json_schema": {"schema": {...}}}}, json_object or text (null). */
    public static StructuredOutputs fromOpenAi(JsonNode node) {
        String type = node == null ? "" : node.path("type").asText("");
        return switch (type) {
            case "text" -> null;
            case "json_object" -> jsonObject();
            case "json_schema" -> {
                JsonNode schema = node.path("json_schema").path("schema");
                if (!schema.isObject()) {
                    throw new IllegalArgumentException("response_format.json_schema.schema must be a JSON schema object");
                }
                yield json(schema.toString());
            }
            default -> throw new IllegalArgumentException("response_format.type must be text, json_object or json_schema, got '"
                    + type + "'");
        };
    }

    /** Parses a JSON text holding vLLM's structured_outputs object (the CLI flag and Spark option form). */
    public static StructuredOutputs parseVllm(String json) {
        try {
            return fromVllm(JSON.readTree(json));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("structured_outputs is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode v, String what) {
        if (!v.isTextual()) {
            throw new IllegalArgumentException(what + " must be a string, got " + v);
        }
        return v.asText();
    }

    /** The constraint's language over code points; an IllegalArgumentException says what is wrong. */
    public Automaton automaton() {
        return switch (kind) {
            case CHOICE -> {
                List<Automaton> options = new ArrayList<>();
                for (String c : choices) {
                    options.add(JsonAutomata.lit(c));
                }
                yield Operations.union(options);
            }
            case REGEX -> RegexCompiler.compile(spec);
            case JSON -> JsonSchemaCompiler.compile(spec);
            case JSON_OBJECT -> JsonAutomata.anyObject(JSON_OBJECT_DEPTH);
        };
    }

    /** Equal for equal constraints: the cache key of compiled indexes. */
    public String key() {
        return kind + ":" + (kind == Kind.CHOICE ? choices.toString() : String.valueOf(spec));
    }

    /** How errors name this constraint. */
    public String describe() {
        return switch (kind) {
            case CHOICE -> "the choice " + choices;
            case REGEX -> "the regex " + RegexCompiler.quote(spec);
            case JSON -> "the JSON schema";
            case JSON_OBJECT -> "json_object";
        };
    }
}
