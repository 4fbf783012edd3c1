package io.sparkmm.engine.models;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.processors.ConfigReader;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A media processor's settings as transformers saves them: a file of its own (e.g.
 * {@code preprocessor_config.json}: the Hub's files, transformers 4), else one entry of
 * {@code processor_config.json} (transformers 5 writes only that file for a processor).
 *
 * @param node the settings object
 * @param source how errors name where they came from
 */
public record ProcessorSettings(JsonNode node, String source) {

    public static final String PREPROCESSOR_CONFIG = "preprocessor_config.json";
    public static final String PROCESSOR_CONFIG = "processor_config.json";

    /** {@code dir}'s processor_config.json, or null when it has none. */
    public static JsonNode processorConfig(Path dir) {
        Path file = dir.resolve(PROCESSOR_CONFIG);
        return Files.isRegularFile(file) ? ConfigReader.read(file) : null;
    }

    /**
     * The settings in {@code ownFile}, else in {@code processor}'s (see {@link #processorConfig})
     * {@code entry}; null when neither has them.
     */
    public static ProcessorSettings find(Path dir, String ownFile, JsonNode processor, String entry) {
        Path own = dir.resolve(ownFile);
        if (Files.isRegularFile(own)) {
            return new ProcessorSettings(ConfigReader.read(own), own.toString());
        }
        if (processor != null && processor.path(entry).isObject()) {
            return new ProcessorSettings(processor.path(entry), dir.resolve(PROCESSOR_CONFIG) + " " + entry);
        }
        return null;
    }

    /**
     * The settings in preprocessor_config.json, else in processor_config.json's {@code entry}
     * ({@code image_processor}, {@code feature_extractor}, ...); an error naming both files when absent.
     *
     * @param model how the error names the model ("multimodal", "Qwen2-Audio")
     */
    public static ProcessorSettings read(Path dir, String entry, String model) {
        ProcessorSettings found = find(dir, PREPROCESSOR_CONFIG, processorConfig(dir), entry);
        if (found == null) {
            String article = "aeiou".indexOf(entry.charAt(0)) >= 0 ? "an " : "a ";
            throw new IllegalArgumentException(model + " model " + dir + " has no " + PREPROCESSOR_CONFIG + " and no "
                    + PROCESSOR_CONFIG + " with " + article + entry + " entry");
        }
        return found;
    }
}
