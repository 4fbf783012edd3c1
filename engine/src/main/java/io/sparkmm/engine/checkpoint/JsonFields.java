package io.sparkmm.engine.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed, defaulted reads of one JSON object from a checkpoint file. Every error names the file and
 * the key path (for example {@code rope_scaling.factor}), because "expected an int" alone is
 * useless when a model directory holds five JSON files.
 *
 * <p>JSON {@code null} counts as absent: Hugging Face writes {@code "head_dim": null} or
 * {@code "rope_scaling": null} to mean "use the default".
 */
public final class JsonFields {

    /** Shared, thread-safe once configured. Duplicate keys are rejected: last-one-wins hides bugs. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final JsonNode node;
    private final Path file;
    private final String prefix;

    public JsonFields(JsonNode node, Path file, String prefix) {
        this.node = node;
        this.file = file;
        this.prefix = prefix;
    }

    /** Parses {@code file}, which must hold a JSON object. */
    public static JsonFields read(Path file) {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + " does not exist", e);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file + " must hold a JSON object");
        }
        return new JsonFields(root, file, "");
    }

    public JsonNode node() {
        return node;
    }

    public Path file() {
        return file;
    }

    /** The full key path of {@code key} in this file, e.g. {@code text_config.model_type}. */
    public String path(String key) {
        return prefix + key;
    }

    public boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    /** The nested object at {@code key}, or null when absent or null. */
    public JsonFields object(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw bad(key, v, "an object");
        }
        return new JsonFields(v, file, prefix + key + ".");
    }

    public int intOr(String key, int def) {
        Integer v = intOrNull(key);
        return v == null ? def : v;
    }

    public Integer intOrNull(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        return toInt(key, v);
    }

    public int requireInt(String key) {
        Integer v = intOrNull(key);
        if (v == null) {
            throw new CheckpointException(file + ": missing required key " + prefix + key);
        }
        return v;
    }

    public double doubleOr(String key, double def) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return def;
        }
        if (!v.isNumber()) {
            throw bad(key, v, "a number");
        }
        return v.asDouble();
    }

    public double requireDouble(String key) {
        if (!has(key)) {
            throw new CheckpointException(file + ": missing required key " + prefix + key);
        }
        return doubleOr(key, Double.NaN);
    }

    public Double doubleOrNull(String key) {
        return has(key) ? doubleOr(key, Double.NaN) : null;
    }

    public boolean boolOr(String key, boolean def) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return def;
        }
        if (!v.isBoolean()) {
            throw bad(key, v, "true or false");
        }
        return v.asBoolean();
    }

    public String stringOr(String key, String def) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return def;
        }
        if (!v.isTextual()) {
            throw bad(key, v, "a string");
        }
        return v.asText();
    }

    /**
     * A token-id list that Hugging Face lets be either one int or a list of ints
     * ({@code eos_token_id}); absent or null gives {@code def}.
     */
    public List<Integer> intListOr(String key, List<Integer> def) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return def;
        }
        if (v.isArray()) {
            List<Integer> out = new ArrayList<>(v.size());
            for (JsonNode e : v) {
                out.add(toInt(key, e));
            }
            return List.copyOf(out);
        }
        return List.of(toInt(key, v));
    }

    private int toInt(String key, JsonNode v) {
        // 4096.0 is accepted (some exporters write floats); 4096.5 and 1e20 are not.
        if (!v.isNumber() || (!v.isIntegralNumber() && v.asDouble() != Math.rint(v.asDouble()))
                || v.asDouble() > Integer.MAX_VALUE || v.asDouble() < Integer.MIN_VALUE) {
            throw bad(key, v, "an int");
        }
        return (int) v.asDouble();
    }

    public CheckpointException bad(String key, JsonNode v, String expected) {
        return new CheckpointException(file + ": " + prefix + key + " is " + v + ", expected " + expected);
    }

    public CheckpointException invalid(String key, Object value, String why) {
        return new CheckpointException(file + ": " + prefix + key + " = " + value + " is invalid: " + why);
    }
}
