package io.sparkmm.processors.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.processors.ConfigReader;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How many {@code <image>} tokens LLaVA-OneVision puts in a prompt for an image, as HF's
 * {@code LlavaOnevisionProcessor} counts them (the model must produce exactly that many features).
 *
 * <p>An image alone in its prompt: the tiles' feature grid ({@code side x side} features a tile, side =
 * sqrt(num_image_tokens)) is cropped back to the image's aspect ratio (the canvas padding carries no
 * image), then, when it holds more than about {@code 1.1^2 * N * side^2} features ({@code anyres_max_N}),
 * shrunk by that ratio; each grid row ends with an image_newline feature; the base patch adds
 * {@code num_image_tokens}. An image of a multi-image prompt: {@code num_image_tokens + 1}. With the
 * {@code "default"} feature strategy HF counts one token less in both cases.
 *
 * <p>The float steps mirror Python's ({@code round(x, 7)}, float {@code //}) so that borderline sizes
 * give HF's count, not one off.
 *
 * @param numImageTokens features of one patch (SigLIP 384/14: 729)
 * @param maxNumPatches  N of {@code vision_aspect_ratio = "anyres_max_N"}
 * @param dropOne        {@code vision_feature_select_strategy == "default"}
 * @param pinpoints      the image processor's {@code image_grid_pinpoints}, {height, width}
 * @param patchHeight    height of a processed patch (the pixel_values' last-but-one dimension)
 * @param patchWidth     width of a processed patch
 */
public record LlavaOnevisionTokenCount(int numImageTokens, int maxNumPatches, boolean dropOne, int[][] pinpoints,
                                       int patchHeight, int patchWidth) {

    private static final Pattern ANYRES_MAX = Pattern.compile("anyres_max_(\\d+)");

    public LlavaOnevisionTokenCount {
        if (numImageTokens <= 0 || maxNumPatches <= 0 || patchHeight <= 0 || patchWidth <= 0) {
            throw new IllegalArgumentException("num_image_tokens, anyres_max_N and the patch size must be positive");
        }
        pinpoints = pinpoints.clone();
    }

    /**
     * From the image processor's settings and a {@code processor_config.json} ({@code num_image_tokens},
     * {@code vision_aspect_ratio}, {@code vision_feature_select_strategy}); {@code source} names it in errors.
     */
    public static LlavaOnevisionTokenCount of(LlavaOnevisionImageProcessorConfig image, JsonNode processor,
                                              String source) {
        ConfigReader r = new ConfigReader(processor, source);
        if (!r.has("num_image_tokens")) {
            throw r.error("num_image_tokens", "is missing");
        }
        int tokens = r.positive("num_image_tokens", 0);
        JsonNode ratio = processor.get("vision_aspect_ratio");
        String aspect = ratio == null || ratio.isNull() ? "anyres_max_9" : ratio.asText();
        Matcher m = ANYRES_MAX.matcher(aspect);
        if (!m.matches()) {
            throw r.error("vision_aspect_ratio", "must be anyres_max_N, got " + aspect);
        }
        JsonNode strategy = processor.get("vision_feature_select_strategy");
        boolean dropOne = strategy != null && "default".equals(strategy.asText());
        return new LlavaOnevisionTokenCount(tokens, Integer.parseInt(m.group(1)), dropOne, image.pinpoints(),
                image.sizeHeight(), image.sizeWidth());
    }

    /** Reads both files of a checkpoint directory's processor. */
    public static LlavaOnevisionTokenCount load(Path preprocessorConfigJson, Path processorConfigJson) {
        return of(LlavaOnevisionImageProcessorConfig.load(preprocessorConfigJson),
                ConfigReader.read(processorConfigJson), processorConfigJson.toString());
    }

    /** Features a side of one patch: {@code int(sqrt(num_image_tokens))}. */
    public int patchSide() {
        return (int) Math.sqrt(numImageTokens);
    }

    /**
     * The tiles' feature grid before the anyres_max downscale, {fullRows, fullCols, top, left, rows, cols}:
     * the grid of all tiles is fullRows x fullCols features; the part showing the image (the canvas
     * padding cropped away, symmetrically) starts at (top, left) and is rows x cols.
     */
    public int[] unpadded(int imageHeight, int imageWidth) {
        int[] best = AnyResGrid.selectBestResolution(imageHeight, imageWidth, pinpoints);
        int side = patchSide();
        int fullRows = side * (best[0] / patchHeight);
        int fullCols = side * (best[1] / patchWidth);
        int top = 0;
        int left = 0;
        double originalAspect = (double) imageWidth / imageHeight;
        double currentAspect = (double) fullCols / fullRows;
        if (originalAspect > currentAspect) {
            int newHeight = truncRound7(imageHeight * ((double) fullCols / imageWidth));
            top = Math.floorDiv(fullRows - newHeight, 2);
        } else {
            int newWidth = truncRound7(imageWidth * ((double) fullRows / imageHeight));
            left = Math.floorDiv(fullCols - newWidth, 2);
        }
        return new int[] {fullRows, fullCols, top, left, fullRows - 2 * top, fullCols - 2 * left};
    }

    /**
     * {rows, cols} of the tiles' feature grid for an image alone in its prompt, after cropping to the
     * aspect ratio and the anyres_max downscale; each row is followed by one image_newline feature.
     */
    public int[] grid(int imageHeight, int imageWidth) {
        int[] u = unpadded(imageHeight, imageWidth);
        int rows = u[4];
        int cols = u[5];
        int side = patchSide();
        double ratio = Math.sqrt((double) ((long) rows * cols) / ((long) maxNumPatches * side * side));
        if (ratio > 1.1) {
            return new int[] {(int) pyFloorDiv(rows, ratio), (int) pyFloorDiv(cols, ratio)};
        }
        return new int[] {rows, cols};
    }

    /** Tokens for an image that is the only image of its prompt (AnyRes). */
    public int imageTokens(int imageHeight, int imageWidth) {
        int[] g = grid(imageHeight, imageWidth);
        return g[0] * g[1] + g[0] + numImageTokens - (dropOne ? 1 : 0);
    }

    /** Tokens for each image of a prompt with several images: one patch and one image_newline. */
    public int multiImageTokens() {
        return numImageTokens + 1 - (dropOne ? 1 : 0);
    }

    /** Python's {@code int(round(x, 7))}: round the exact binary value to 7 decimals (half even), truncate. */
    static int truncRound7(double x) {
        return new BigDecimal(x).setScale(7, RoundingMode.HALF_EVEN).intValue();
    }

    /** Python's float {@code a // b} for positive operands (CPython's float_floor_div: fmod, then a fixup). */
    static double pyFloorDiv(double a, double b) {
        double mod = a % b;
        double div = (a - mod) / b;
        double floor = Math.floor(div);
        if (div - floor > 0.5) {
            floor += 1.0;
        }
        return floor;
    }
}
