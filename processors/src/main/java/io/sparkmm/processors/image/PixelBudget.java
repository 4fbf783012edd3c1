package io.sparkmm.processors.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.processors.ConfigReader;

/**
 * The pixel count a Qwen2-VL image or video frame is resized into, as both of its HF processors
 * read it: {@code size: {shortest_edge: MIN, longest_edge: MAX}} (pixel counts, despite the names),
 * with legacy top-level {@code min_pixels}/{@code max_pixels} overriding the matching entry, as
 * HF's constructors do.
 */
public record PixelBudget(int minPixels, int maxPixels) {

    /** Reads the budget of {@code root}, {@code defaults} for absent keys; errors name the file and key. */
    public static PixelBudget read(ConfigReader r, JsonNode root, PixelBudget defaults) {
        int minPixels = defaults.minPixels();
        int maxPixels = defaults.maxPixels();
        JsonNode size = root.get("size");
        if (size != null && !size.isNull()) {
            if (!size.isObject()) {
                throw r.error("size", "must be {\"shortest_edge\": MIN_PIXELS, \"longest_edge\": MAX_PIXELS}, got " + size);
            }
            boolean minGiven = size.has("shortest_edge") || r.has("min_pixels");
            boolean maxGiven = size.has("longest_edge") || r.has("max_pixels");
            // HF keeps a partial size dict as is and then fails at preprocess time; fail at load instead.
            if (!minGiven || !maxGiven) {
                throw r.error("size", "needs both shortest_edge (min pixels) and longest_edge (max pixels), got " + size);
            }
            if (size.has("shortest_edge")) {
                minPixels = r.positive("size.shortest_edge", size.get("shortest_edge"));
            }
            if (size.has("longest_edge")) {
                maxPixels = r.positive("size.longest_edge", size.get("longest_edge"));
            }
        }
        return new PixelBudget(r.positive("min_pixels", minPixels), r.positive("max_pixels", maxPixels));
    }
}
