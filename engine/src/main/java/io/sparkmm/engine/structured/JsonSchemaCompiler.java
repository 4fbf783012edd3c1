package io.sparkmm.engine.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.lucene.util.automaton.Automaton;
import org.apache.lucene.util.automaton.Operations;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.sparkmm.engine.structured.JsonAutomata.cat;
import static io.sparkmm.engine.structured.JsonAutomata.lit;

/**
 * A JSON Schema to the automaton of the JSON texts it accepts (a regular subset, as outlines and
 * xgrammar build): every text the automaton accepts validates against the schema. Objects emit
 * their declared properties in declaration order, required ones always, optional ones or not; no
 * other keys. Supported keywords: type (one or a list), properties, required, additionalProperties
 * (false, or a schema for a map without declared properties), items, minItems, maxItems, enum,
 * const, minLength, maxLength, pattern (matched in full), minimum/maximum/exclusiveMinimum/
 * exclusiveMaximum (any decimal bound; numbers within bounds are written without exponent), anyOf, oneOf (when its branches
 * are of different types, so at most one matches), allOf of one schema, $ref to #/$defs or
 * #/definitions (not recursive), and the annotations title, description, default, examples,
 * $schema, $id. A nullable value is {@code "type": ["string", "null"]} or an anyOf with
 * {@code {"type": "null"}}; OpenAPI's {@code nullable} is no JSON Schema keyword (validators ignore
 * it), so it is read as an annotation and adds no null. Anything else is refused with an error naming the keyword and its path.
 */
public final class JsonSchemaCompiler {

    /** Nesting allowed for values the schema leaves open ({} or an object without properties). */
    static final int OPEN_VALUE_DEPTH = 3;
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "$defs", "definitions", "deprecated", "readOnly", "writeOnly", "nullable");
    private static final Set<String> TYPE_KEYS = Set.of("type", "properties", "required", "additionalProperties", "items",
            "minItems", "maxItems", "enum", "const", "minLength", "maxLength", "pattern", "minimum", "maximum",
            "exclusiveMinimum", "exclusiveMaximum", "anyOf", "oneOf", "allOf", "$ref");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode root;
    private int refDepth;

    private JsonSchemaCompiler(JsonNode root) {
        this.root = root;
    }

    /** The automaton of {@code schemaJson}; an IllegalArgumentException names what is wrong or unsupported. */
    public static Automaton compile(String schemaJson) {
        JsonNode schema;
        try {
            schema = JSON.readTree(schemaJson);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the JSON schema is not valid JSON: " + e.getOriginalMessage());
        }
        if (schema == null || !(schema.isObject() || schema.isBoolean())) {
            throw new IllegalArgumentException("a JSON schema must be an object, got " + (schema == null ? "nothing" : schema.getNodeType()));
        }
        return new JsonSchemaCompiler(schema).value(schema, "#");
    }

    private Automaton value(JsonNode s, String path) {
        if (s.isBoolean()) {
            if (!s.asBoolean()) {
                throw unsupported(path, "the schema false (nothing validates)");
            }
            return JsonAutomata.anyValue(OPEN_VALUE_DEPTH);
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!ANNOTATIONS.contains(k) && !TYPE_KEYS.contains(k)) {
                throw unsupported(path, "the keyword '" + k + "'");
            }
        }
        return typed(s, path);
    }

    private Automaton typed(JsonNode s, String path) {
        if (s.has("$ref")) {
            return ref(s.get("$ref").asText(), path);
        }
        if (s.has("const")) {
            return literal(s.get("const"));
        }
        if (s.has("enum")) {
            List<Automaton> options = new ArrayList<>();
            for (JsonNode v : s.get("enum")) {
                options.add(literal(v));
            }
            if (options.isEmpty()) {
                throw new IllegalArgumentException(path + ": enum is empty");
            }
            return Operations.union(options);
        }
        if (s.has("anyOf") || s.has("oneOf")) {
            String key = s.has("anyOf") ? "anyOf" : "oneOf";
            List<Automaton> branches = new ArrayList<>();
            Set<String> types = new java.util.HashSet<>();
            int i = 0;
            for (JsonNode b : s.get(key)) {
                if (key.equals("oneOf") && !types.add(b.path("type").asText("?" + i))) {
                    throw unsupported(path + "/oneOf", "oneOf branches of the same type (only one may match)");
                }
                branches.add(value(b, path + "/" + key + "/" + i++));
            }
            return Operations.union(branches);
        }
        if (s.has("allOf")) {
            if (s.get("allOf").size() != 1) {
                throw unsupported(path + "/allOf", "allOf with more than one schema");
            }
            return value(s.get("allOf").get(0), path + "/allOf/0");
        }
        JsonNode type = s.get("type");
        if (type == null) {
            if (s.has("properties")) {
                return object(s, path);
            }
            if (s.has("items")) {
                return array(s, path);
            }
            return JsonAutomata.anyValue(OPEN_VALUE_DEPTH);
        }
        if (type.isArray()) {
            List<Automaton> kinds = new ArrayList<>();
            for (JsonNode t : type) {
                kinds.add(ofType(t.asText(), s, path));
            }
            return Operations.union(kinds);
        }
        return ofType(type.asText(), s, path);
    }

    private Automaton ofType(String type, JsonNode s, String path) {
        return switch (type) {
            case "object" -> object(s, path);
            case "array" -> array(s, path);
            case "string" -> string(s, path);
            case "integer" -> integer(s, path);
            case "number" -> number(s, path);
            case "boolean" -> JsonAutomata.BOOLEAN;
            case "null" -> JsonAutomata.NULL;
            default -> throw new IllegalArgumentException(path + ": unknown type '" + type + "'");
        };
    }

    private Automaton object(JsonNode s, String path) {
        JsonNode props = s.path("properties");
        Set<String> required = new java.util.LinkedHashSet<>();
        for (JsonNode r : s.path("required")) {
            required.add(r.asText());
        }
        JsonNode additional = s.get("additionalProperties");
        if (props.isMissingNode() || props.isEmpty()) {
            if (!required.isEmpty()) {
                throw unsupported(path + "/required", "required properties that 'properties' does not describe");
            }
            if (additional != null && additional.isBoolean() && !additional.asBoolean()) {
                return cat(lit("{"), JsonAutomata.SPACE, lit("}"));
            }
            Automaton values = additional != null && additional.isObject()
                    ? value(additional, path + "/additionalProperties") : JsonAutomata.anyValue(OPEN_VALUE_DEPTH - 1);
            return JsonAutomata.map(values);
        }
        List<Automaton> pairs = new ArrayList<>();
        List<Boolean> isRequired = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            pairs.add(cat(literal(JSON.getNodeFactory().textNode(p.getKey())), JsonAutomata.COLON,
                    value(p.getValue(), path + "/properties/" + p.getKey())));
            isRequired.add(required.contains(p.getKey()));
        }
        for (String r : required) {
            if (!props.has(r)) {
                throw unsupported(path + "/required", "the required property '" + r + "' that 'properties' does not describe");
            }
        }
        return JsonAutomata.object(pairs, isRequired);
    }

    private Automaton array(JsonNode s, String path) {
        JsonNode items = s.get("items");
        Automaton item = items == null ? JsonAutomata.anyValue(OPEN_VALUE_DEPTH - 1) : value(items, path + "/items");
        int min = s.path("minItems").asInt(0);
        int max = s.has("maxItems") ? s.get("maxItems").asInt() : -1;
        checkBounds(path, "minItems", min, "maxItems", max);
        return JsonAutomata.array(item, min, max);
    }

    private Automaton string(JsonNode s, String path) {
        int min = s.path("minLength").asInt(0);
        int max = s.has("maxLength") ? s.get("maxLength").asInt() : -1;
        checkBounds(path, "minLength", min, "maxLength", max);
        if (Math.max(min, max) > RegexCompiler.MAX_REPEAT) {
            throw unsupported(path, "string lengths above " + RegexCompiler.MAX_REPEAT);
        }
        if (!s.has("pattern")) {
            return JsonAutomata.string(min, max);
        }
        // the pattern's strings that need no escaping, matched in full (a full match is also a search match)
        Automaton body = Operations.intersection(RegexCompiler.compile(s.get("pattern").asText()), JsonAutomata.PLAIN_STRING_CHARS);
        if (min > 0 || max >= 0) {
            Automaton anyChar = RegexCompiler.ranges(RegexCompiler.complement(new int[][] {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}}));
            body = Operations.intersection(body, max < 0 ? Operations.repeat(anyChar, min) : Operations.repeat(anyChar, min, max));
        }
        return cat(lit("\""), body, lit("\""));
    }

    private Automaton integer(JsonNode s, String path) {
        NumberRanges.Bound lower = tighter(decimal(s, "minimum", path, true), decimal(s, "exclusiveMinimum", path, false), 1);
        NumberRanges.Bound upper = tighter(decimal(s, "maximum", path, true), decimal(s, "exclusiveMaximum", path, false), -1);
        Long min = lower == null ? null : integerAtOrAbove(lower);
        Long max = upper == null ? null : -integerAtOrAbove(new NumberRanges.Bound(upper.value().negate(), upper.inclusive()));
        return min == null && max == null ? JsonAutomata.INTEGER : JsonAutomata.integerRange(min, max);
    }

    /** The least integer the bound lets in: its ceiling, one more when it is itself an excluded integer. */
    private static long integerAtOrAbove(NumberRanges.Bound b) {
        java.math.BigDecimal ceiling = b.value().setScale(0, java.math.RoundingMode.CEILING);
        long v = ceiling.longValueExact();
        return !b.inclusive() && ceiling.compareTo(b.value()) == 0 ? v + 1 : v;
    }

    private Automaton number(JsonNode s, String path) {
        NumberRanges.Bound lower = tighter(decimal(s, "minimum", path, true), decimal(s, "exclusiveMinimum", path, false), 1);
        NumberRanges.Bound upper = tighter(decimal(s, "maximum", path, true), decimal(s, "exclusiveMaximum", path, false), -1);
        if (lower == null && upper == null) {
            return JsonAutomata.NUMBER;
        }
        try {
            return NumberRanges.between(lower, upper);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
    }

    private static NumberRanges.Bound decimal(JsonNode s, String key, String path, boolean inclusive) {
        JsonNode v = s.get(key);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException(path + "/" + key + " must be a number, got " + v);
        }
        return new NumberRanges.Bound(v.decimalValue(), inclusive);
    }

    /** Of two lower (direction 1) or upper (-1) bounds, the one that excludes more; exclusive wins a tie. */
    private static NumberRanges.Bound tighter(NumberRanges.Bound a, NumberRanges.Bound b, int direction) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        int c = a.value().compareTo(b.value()) * direction;
        return c > 0 ? a : c < 0 ? b : (a.inclusive() ? b : a);
    }

    private static void checkBounds(String path, String minKey, int min, String maxKey, int max) {
        if (min < 0 || (max >= 0 && max < min)) {
            throw new IllegalArgumentException(path + ": " + minKey + " " + min + " and " + maxKey + " " + max + " admit nothing");
        }
    }

    private Automaton ref(String ref, String path) {
        String prefix = ref.startsWith("#/$defs/") ? "#/$defs/" : ref.startsWith("#/definitions/") ? "#/definitions/" : null;
        if (prefix == null) {
            throw unsupported(path + "/$ref", "the reference '" + ref + "' (only #/$defs/... and #/definitions/...)");
        }
        JsonNode target = root.path(prefix.substring(2, prefix.length() - 1)).path(ref.substring(prefix.length()));
        if (target.isMissingNode()) {
            throw new IllegalArgumentException(path + "/$ref: '" + ref + "' names no definition");
        }
        if (++refDepth > 32) {
            throw unsupported(path + "/$ref", "recursive references ('" + ref + "')");
        }
        try {
            return value(target, ref);
        } finally {
            refDepth--;
        }
    }

    /** A JSON value written exactly as Jackson writes it compactly (strings escaped as JSON requires). */
    private static Automaton literal(JsonNode v) {
        try {
            return lit(JSON.writeValueAsString(v));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static IllegalArgumentException unsupported(String path, String what) {
        return new IllegalArgumentException("the JSON schema at " + path + " uses " + what
                + ", which structured output does not support");
    }
}
