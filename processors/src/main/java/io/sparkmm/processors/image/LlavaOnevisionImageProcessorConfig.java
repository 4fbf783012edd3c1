package io.sparkmm.processors.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.processors.ConfigReader;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The settings of Hugging Face's {@code LlavaOnevisionImageProcessor}, as read from a
 * {@code preprocessor_config.json}. Absent keys take the Python class's defaults (384 x 384, bicubic,
 * OpenAI CLIP mean/std, the 36 pinpoints 384..2304).
 *
 * @param doResize      resize every patch to {@code sizeHeight x sizeWidth} (a no-op for tiles of that size)
 * @param sizeHeight    patch height: {@code size.height}, or {@code size.shortest_edge}
 * @param sizeWidth     patch width: {@code size.width}, or {@code size.shortest_edge}
 * @param tileSize      side of the square tiles cut from the padded canvas: {@code crop_size.height} when
 *                      present, else {@code sizeHeight} (as HF chooses its {@code patch_size})
 * @param resample      Pillow filter number: 2 = bilinear, 3 = bicubic
 * @param doRescale     multiply pixel values by {@code rescaleFactor}
 * @param rescaleFactor usually 1/255
 * @param doNormalize   subtract {@code imageMean} and divide by {@code imageStd}, per channel
 * @param imageMean     per-channel mean [3]; also the pad colour ({@code int(mean * 255)}) of multi-image inputs
 * @param imageStd      per-channel standard deviation [3]
 * @param pinpoints     {@code image_grid_pinpoints}: candidate canvases as {height, width}, in config order
 */
public record LlavaOnevisionImageProcessorConfig(
        boolean doResize, int sizeHeight, int sizeWidth, int tileSize, int resample,
        boolean doRescale, double rescaleFactor,
        boolean doNormalize, double[] imageMean, double[] imageStd,
        int[][] pinpoints) {

    public LlavaOnevisionImageProcessorConfig {
        if (sizeHeight <= 0 || sizeWidth <= 0 || tileSize <= 0) {
            throw new IllegalArgumentException("size and tile size must be positive, got " + sizeHeight + "x"
                    + sizeWidth + ", tile " + tileSize);
        }
        // Without a resize, tiles and the base image keep their own sizes and HF fails stacking them.
        if (!doResize && (tileSize != sizeHeight || tileSize != sizeWidth)) {
            throw new IllegalArgumentException("do_resize false needs tiles of the size " + sizeHeight + "x"
                    + sizeWidth + ", got " + tileSize);
        }
        PilResample.Filter.fromPil(resample);
        if (imageMean.length != 3 || imageStd.length != 3) {
            throw new IllegalArgumentException("image_mean and image_std need 3 values (RGB), got "
                    + Arrays.toString(imageMean) + " and " + Arrays.toString(imageStd));
        }
        if (pinpoints.length == 0) {
            throw new IllegalArgumentException("image_grid_pinpoints is empty");
        }
        int[][] copy = new int[pinpoints.length][];
        for (int i = 0; i < pinpoints.length; i++) {
            if (pinpoints[i].length != 2 || pinpoints[i][0] <= 0 || pinpoints[i][1] <= 0) {
                throw new IllegalArgumentException("image_grid_pinpoints[" + i + "] must be [height, width] > 0, got "
                        + Arrays.toString(pinpoints[i]));
            }
            copy[i] = pinpoints[i].clone();
        }
        pinpoints = copy;
        imageMean = imageMean.clone();
        imageStd = imageStd.clone();
    }

    /** The Python class's default pinpoints: every {384 i, 384 j} for i, j in 1..6, row by row. */
    public static int[][] defaultPinpoints() {
        int[][] p = new int[36][];
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 6; j++) {
                p[i * 6 + j] = new int[] {384 * (i + 1), 384 * (j + 1)};
            }
        }
        return p;
    }

    @Override
    public double[] imageMean() {
        return imageMean.clone();
    }

    @Override
    public double[] imageStd() {
        return imageStd.clone();
    }

    @Override
    public int[][] pinpoints() {
        int[][] copy = new int[pinpoints.length][];
        for (int i = 0; i < pinpoints.length; i++) {
            copy[i] = pinpoints[i].clone();
        }
        return copy;
    }

    /** Reads a {@code preprocessor_config.json}; errors name the file and the key. */
    public static LlavaOnevisionImageProcessorConfig load(Path preprocessorConfigJson) {
        return fromJson(ConfigReader.read(preprocessorConfigJson), preprocessorConfigJson.toString());
    }

    /** Parses a parsed {@code preprocessor_config.json}; {@code source} names it in errors. */
    public static LlavaOnevisionImageProcessorConfig fromJson(JsonNode root, String source) {
        ConfigReader r = new ConfigReader(root, source);
        int sizeHeight = 384;
        int sizeWidth = 384;
        JsonNode size = root.get("size");
        if (size != null && !size.isNull()) {
            if (size.isObject() && size.has("height") && size.has("width")) {
                sizeHeight = r.positive("size.height", size.get("height"));
                sizeWidth = r.positive("size.width", size.get("width"));
            } else if (size.isObject() && size.has("shortest_edge")) {
                sizeHeight = sizeWidth = r.positive("size.shortest_edge", size.get("shortest_edge"));
            } else {
                throw r.error("size", "must be {\"height\": H, \"width\": W} or {\"shortest_edge\": N}, got " + size);
            }
        }
        int tileSize = sizeHeight;
        JsonNode crop = root.get("crop_size");
        if (crop != null && !crop.isNull()) {
            if (crop.isIntegralNumber()) {
                tileSize = r.positive("crop_size", crop);
            } else if (crop.isObject() && crop.has("height")) {
                tileSize = r.positive("crop_size.height", crop.get("height"));
            } else {
                throw r.error("crop_size", "must be an integer or {\"height\": H, ...}, got " + crop);
            }
        }
        // HF would center-crop every patch; no OneVision checkpoint does, so it is refused, not guessed.
        if (r.bool("do_center_crop", false)) {
            throw r.error("do_center_crop", "true is not supported for LLaVA-OneVision");
        }
        int[][] pinpoints = defaultPinpoints();
        JsonNode pins = root.get("image_grid_pinpoints");
        if (pins != null && !pins.isNull()) {
            if (!pins.isArray()) {
                throw r.error("image_grid_pinpoints", "must be a list of [height, width], got " + pins);
            }
            pinpoints = new int[pins.size()][];
            for (int i = 0; i < pins.size(); i++) {
                JsonNode p = pins.get(i);
                if (!p.isArray() || p.size() != 2) {
                    throw r.error("image_grid_pinpoints", "entry " + i + " must be [height, width], got " + p);
                }
                pinpoints[i] = new int[] {r.positive("image_grid_pinpoints[" + i + "][0]", p.get(0)),
                        r.positive("image_grid_pinpoints[" + i + "][1]", p.get(1))};
            }
        }
        int resample = PilResample.Filter.read(r);
        try {
            return new LlavaOnevisionImageProcessorConfig(
                    r.bool("do_resize", true), sizeHeight, sizeWidth, tileSize, resample,
                    r.bool("do_rescale", true), r.number("rescale_factor", 1 / 255.0),
                    r.bool("do_normalize", true),
                    r.perChannel("image_mean", ClipImageProcessorConfig.OPENAI_CLIP_MEAN),
                    r.perChannel("image_std", ClipImageProcessorConfig.OPENAI_CLIP_STD),
                    pinpoints);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }
}
