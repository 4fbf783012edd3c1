package io.sparkmm.connector.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.sparkmm.connector.generate.GeneratorOptions.*;

/**
 * The five ways to ask for a constrained response (structuredOutputs, responseSchema,
 * responseJsonSchema, responseChoices, responseRegex) as the one structured_outputs object the engine
 * takes; at most one may be set.
 */
final class ResponseFormat {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ResponseFormat() {
    }

    /** vLLM's structured_outputs JSON of the options, or null when none is set. */
    static String structuredOutputs(Map<String, Object> values) {
        String raw = GeneratorSettings.get(values, STRUCTURED_OUTPUTS);
        String ddl = GeneratorSettings.get(values, RESPONSE_SCHEMA);
        String schema = GeneratorSettings.get(values, RESPONSE_JSON_SCHEMA);
        List<String> choices = GeneratorSettings.get(values, RESPONSE_CHOICES);
        String regex = GeneratorSettings.get(values, RESPONSE_REGEX);
        List<String> set = new ArrayList<>();
        if (raw != null) set.add(STRUCTURED_OUTPUTS.name());
        if (ddl != null) set.add(RESPONSE_SCHEMA.name());
        if (schema != null) set.add(RESPONSE_JSON_SCHEMA.name());
        if (choices != null && !choices.isEmpty()) set.add(RESPONSE_CHOICES.name());
        if (regex != null) set.add(RESPONSE_REGEX.name());
        if (set.size() > 1) {
            throw new IllegalArgumentException("sparkmm: options " + set + " each constrain the response; set one of them");
        }
        if (set.isEmpty()) {
            return null;
        }
        ObjectNode o = JSON.createObjectNode();
        try {
            switch (set.get(0)) {
                case "responseSchema" -> o.set("json", JSON.readTree(ResponseSchemas.jsonSchema(parsedType(ddl))));
                case "responseJsonSchema" -> o.set("json", JSON.readTree(schema));
                case "responseChoices" -> choices.forEach(o.putArray("choice")::add);
                case "responseRegex" -> o.put("regex", regex);
                default -> {
                    return raw;
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("sparkmm: option " + set.get(0) + " is not valid JSON: " + e.getOriginalMessage());
        }
        return o.toString();
    }

    /** The struct of a responseSchema DDL string; an IllegalArgumentException quotes Spark's parse error. */
    static StructType parsedType(String ddl) {
        try {
            return StructType.fromDDL(ddl);
        } catch (Exception e) { // Spark's ParseException is a checked AnalysisException
            throw new IllegalArgumentException("sparkmm: responseSchema '" + ddl + "' is not a Spark DDL struct "
                    + "(e.g. 'label STRING, confidence DOUBLE'): " + e.getMessage(), e);
        }
    }
}
