package io.sparkmm.processors;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Per-request settings of a model's media processor, vLLM's {@code mm_processor_kwargs} (for
 * Qwen2-VL {@code {"min_pixels": 3136, "max_pixels": 200704}}). Values are JSON scalars (numbers,
 * strings, booleans). Immutable; keys are kept sorted so {@link #canonical()} is the same for the
 * same settings whatever order they were given in, and can enter a content hash.
 */
public record ProcessorKwargs(Map<String, Object> values) {

    public static final ProcessorKwargs NONE = new ProcessorKwargs(Map.of());

    public ProcessorKwargs {
        TreeMap<String, Object> sorted = new TreeMap<>();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            Object v = e.getValue();
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw new IllegalArgumentException("mm_processor_kwargs: a key is empty");
            }
            if (!(v instanceof Number || v instanceof String || v instanceof Boolean)) {
                throw new IllegalArgumentException("mm_processor_kwargs: \"" + e.getKey()
                        + "\" must be a number, string or boolean, got " + v);
            }
            sorted.put(e.getKey(), v);
        }
        values = java.util.Collections.unmodifiableMap(sorted);
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** These settings with {@code overrides}' keys replacing or adding to them (vLLM's per-request merge). */
    public ProcessorKwargs overriddenBy(ProcessorKwargs overrides) {
        if (overrides.isEmpty()) {
            return this;
        }
        TreeMap<String, Object> merged = new TreeMap<>(values);
        merged.putAll(overrides.values());
        return new ProcessorKwargs(merged);
    }

    /** A stable text form ({@code k=v;...} in key order) for content hashes and logs; "" when empty. */
    public String canonical() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(k).append('=').append(v).append(';'));
        return sb.toString();
    }

    /**
     * Fails naming the first key the processor does not know, listing the ones it does (vLLM would
     * silently drop it; here a typo must not change nothing quietly).
     */
    public void requireOnly(Set<String> known, String processorName) {
        for (String k : values.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("mm_processor_kwargs: " + processorName + " has no setting \"" + k
                        + "\"; it takes " + (known.isEmpty() ? "none" : String.join(", ", new java.util.TreeSet<>(known))));
            }
        }
    }

    /** A positive integer setting, or {@code fallback} when absent; a fraction or a non-number is an error. */
    public int positiveInt(String key, int fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && d >= 1 && d <= Integer.MAX_VALUE) {
                return (int) d;
            }
        }
        throw new IllegalArgumentException("mm_processor_kwargs: \"" + key + "\" must be a positive integer, got " + v);
    }

    /** {@link #positiveInt} of a setting the request may leave out: null when absent. */
    public Integer optionalPositiveInt(String key) {
        return values.containsKey(key) ? positiveInt(key, 1) : null;
    }

    /** {@link #positiveNumber} of a setting the request may leave out: null when absent. */
    public Double optionalPositiveNumber(String key) {
        return values.containsKey(key) ? positiveNumber(key, 1) : null;
    }

    /** A positive finite number setting, or {@code fallback} when absent. */
    public double positiveNumber(String key, double fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n && n.doubleValue() > 0 && Double.isFinite(n.doubleValue())) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("mm_processor_kwargs: \"" + key + "\" must be a positive number, got " + v);
    }
}
