package io.sparkmm.processors;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Typed reads of a {@code preprocessor_config.json}, with defaults for absent (or null) keys and
 * errors that name the file, the key and the offending value.
 */
public final class ConfigReader {

    private final JsonNode root;
    private final String source;

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** A processor config file as JSON; an unreadable or malformed file fails naming it. */
    public static JsonNode read(java.nio.file.Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public ConfigReader(JsonNode root, String source) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": expected a JSON object, got " + root);
        }
        this.root = root;
        this.source = source;
    }

    public IllegalArgumentException error(String key, String message) {
        return new IllegalArgumentException(source + ": key \"" + key + "\" " + message);
    }

    private JsonNode get(String key) {
        JsonNode n = root.get(key);
        return n == null || n.isNull() ? null : n;
    }

    public boolean has(String key) {
        return get(key) != null;
    }

    public boolean bool(String key, boolean dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw error(key, "must be true or false, got " + n);
        }
        return n.booleanValue();
    }

    public int integer(String key, int dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        // 16000.0 is accepted as 16000 (configs written by Python sometimes carry floats).
        if (!n.isNumber() || n.asDouble() != Math.rint(n.asDouble()) || Math.abs(n.asDouble()) > Integer.MAX_VALUE) {
            throw error(key, "must be an integer, got " + n);
        }
        return (int) n.asDouble();
    }

    public int positive(String key, int dflt) {
        int v = integer(key, dflt);
        if (v <= 0) {
            throw error(key, "must be positive, got " + v);
        }
        return v;
    }

    /** A positive integer held in {@code node}, read as (nested) key {@code key}. */
    public int positive(String key, JsonNode node) {
        if (node == null || !node.isNumber() || node.asDouble() != Math.rint(node.asDouble())
                || node.asDouble() <= 0 || node.asDouble() > Integer.MAX_VALUE) {
            throw error(key, "must be a positive integer, got " + node);
        }
        return (int) node.asDouble();
    }

    public double number(String key, double dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isNumber() || !Double.isFinite(n.asDouble())) {
            throw error(key, "must be a finite number, got " + n);
        }
        return n.asDouble();
    }

    /** Three numbers (one per RGB channel); a single number stands for all three. */
    public double[] perChannel(String key, double[] dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt.clone();
        }
        if (n.isNumber()) {
            return new double[] {n.asDouble(), n.asDouble(), n.asDouble()};
        }
        if (!n.isArray() || n.size() != 3) {
            throw error(key, "must be a number or a list of 3 numbers, got " + n);
        }
        double[] out = new double[3];
        for (int i = 0; i < 3; i++) {
            if (!n.get(i).isNumber()) {
                throw error(key, "must hold numbers, got " + n);
            }
            out[i] = n.get(i).asDouble();
        }
        return out;
    }
}
