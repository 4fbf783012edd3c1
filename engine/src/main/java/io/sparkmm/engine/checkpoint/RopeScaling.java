package io.sparkmm.engine.checkpoint;

import java.util.List;

/**
 * How rotary position frequencies are rescaled, from {@code config.json}'s {@code rope_scaling}
 * (or, in files written by newer transformers, {@code rope_parameters}).
 *
 * <ul>
 *   <li>{@code "default"}: no rescaling ({@code factor} 1).</li>
 *   <li>{@code "linear"}: positions divided by {@code factor} (all inverse frequencies divided by it).</li>
 *   <li>{@code "llama3"}: Llama 3.1's piecewise rule: wavelengths shorter than
 *       {@code originalMaxPositionEmbeddings / highFreqFactor} are kept, longer than
 *       {@code originalMaxPositionEmbeddings / lowFreqFactor} are divided by {@code factor}, and
 *       those in between are interpolated smoothly.</li>
 * </ul>
 *
 * Fields a type does not use are 0, except {@code originalMaxPositionEmbeddings}, which defaults to
 * the model's {@code max_position_embeddings} so it is always meaningful.
 *
 * <p>Other types Hugging Face knows ("dynamic", "yarn", "longrope", ...) change attention as well as
 * frequencies; we reject them rather than silently computing something else.
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {

    static final List<String> SUPPORTED = List.of("default", "linear", "llama3");

    /**
     * Reads a {@code rope_scaling} / {@code rope_parameters} object. Its type key is
     * {@code rope_type}, or {@code type} in configs written before transformers 4.43.
     */
    static RopeScaling parse(JsonFields f, int maxPositionEmbeddings) {
        String type = f.stringOr("rope_type", f.stringOr("type", "default"));
        switch (type) {
            case "default":
                return new RopeScaling("default", 1.0, 0, 0, maxPositionEmbeddings);
            case "linear": {
                double factor = f.requireDouble("factor");
                if (!(factor > 0)) {
                    throw f.invalid("factor", factor, "must be > 0");
                }
                return new RopeScaling("linear", factor, 0, 0, maxPositionEmbeddings);
            }
            case "llama3": {
                // Hugging Face requires all four keys for llama3; so do we, rather than guessing.
                double factor = f.requireDouble("factor");
                double low = f.requireDouble("low_freq_factor");
                double high = f.requireDouble("high_freq_factor");
                int original = f.requireInt("original_max_position_embeddings");
                if (!(factor > 0)) {
                    throw f.invalid("factor", factor, "must be > 0");
                }
                if (!(low > 0) || !(high > low)) {
                    // high == low would divide by zero in the smooth interpolation.
                    throw f.invalid("high_freq_factor", high, "must be > low_freq_factor (" + low + ") > 0");
                }
                if (original <= 0) {
                    throw f.invalid("original_max_position_embeddings", original, "must be > 0");
                }
                return new RopeScaling("llama3", factor, low, high, original);
            }
            default:
                throw new CheckpointException(f.file() + ": unsupported rope scaling type \"" + type
                        + "\"; supported: " + String.join(", ", SUPPORTED));
        }
    }
}
