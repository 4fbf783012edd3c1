package io.sparkmm.engine.multimodal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.processors.ProcessorKwargs;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON form of {@link ProcessorKwargs}, {@code {"min_pixels": 3136, "max_pixels": 200704}},
 * as the CLI (flag and prompts-file field) and the Spark option {@code mmProcessorKwargs} take it,
 * so both front ends accept and refuse exactly the same text. Only a flat object of scalars is
 * accepted: whether a key means anything is the model's processor's call, made per request.
 */
public final class ProcessorKwargsJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ProcessorKwargsJson() {
    }

    /** Parses a JSON object text; blank text means no settings. Errors are IllegalArgumentExceptions. */
    public static ProcessorKwargs parse(String text) {
        if (text == null || text.isBlank()) {
            return ProcessorKwargs.NONE;
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("mm_processor_kwargs is not valid JSON: " + e.getOriginalMessage());
        }
        return of(node);
    }

    /** The settings of an already parsed JSON value (a prompts-file field); null or JSON null means none. */
    public static ProcessorKwargs of(JsonNode node) {
        if (node == null || node.isNull()) {
            return ProcessorKwargs.NONE;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("mm_processor_kwargs must be a JSON object like {\"min_pixels\": 3136},"
                    + " got " + node);
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isNumber()) {
                values.put(e.getKey(), v.numberValue());
            } else if (v.isTextual()) {
                values.put(e.getKey(), v.asText());
            } else if (v.isBoolean()) {
                values.put(e.getKey(), v.asBoolean());
            } else {
                // nested objects, arrays and null are refused here rather than by ProcessorKwargs,
                // so the message shows the JSON the user wrote, not a Jackson node class
                throw new IllegalArgumentException("mm_processor_kwargs: \"" + e.getKey()
                        + "\" must be a number, string or boolean, got " + v);
            }
        }
        return new ProcessorKwargs(values);
    }

    /** The JSON object text of some settings (keys sorted), e.g. for showing an option's value. */
    public static String write(ProcessorKwargs kwargs) {
        try {
            return JSON.writeValueAsString(kwargs.values());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
