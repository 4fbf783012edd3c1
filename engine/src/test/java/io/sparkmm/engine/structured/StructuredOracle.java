package io.sparkmm.engine.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Independent checks of constrained outputs: a maintained JSON Schema validator (networknt) and
 * Jackson for JSON, java.util.regex for regexes, plain membership for choices. None of them
 * shares code with the automaton library the constraints are compiled with.
 */
public final class StructuredOracle {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    private StructuredOracle() {
    }

    /** Null when {@code text} satisfies {@code c}, else why not. */
    public static String violation(StructuredOutputs c, String text) {
        switch (c.kind()) {
            case CHOICE:
                return c.choices().contains(text) ? null : "not one of the choices";
            case REGEX:
                return Pattern.compile(c.spec(), Pattern.UNIX_LINES).matcher(text).matches() ? null : "does not match";
            case JSON_OBJECT: {
                JsonNode n = parse(text);
                return n == null ? "not JSON" : n.isObject() ? null : "not an object";
            }
            case JSON: {
                JsonNode n = parse(text);
                if (n == null) {
                    return "not JSON";
                }
                Schema schema = REGISTRY.getSchema(c.spec());
                List<com.networknt.schema.Error> errors = schema.validate(n);
                return errors.isEmpty() ? null : errors.toString();
            }
            default:
                throw new IllegalStateException();
        }
    }

    private static JsonNode parse(String text) {
        try {
            // a whole document: trailing content is an error, as for any JSON consumer
            return JSON.readerFor(JsonNode.class).with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .readValue(text);
        } catch (Exception e) {
            return null;
        }
    }
}
