package io.sparkmm.processors.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import io.sparkmm.processors.ConfigReader;
import java.util.Arrays;

/**
 * The settings of Hugging Face's {@code CLIPImageProcessor}, as read from a
 * {@code preprocessor_config.json}. Keys that are absent take the Python class's defaults.
 *
 * @param doResize      resize before cropping
 * @param shortestEdge  resize so that the shorter side has this length, keeping the aspect ratio;
 *                      0 when {@code sizeHeight}/{@code sizeWidth} are used instead
 * @param sizeHeight    fixed resize height (0 when {@code shortestEdge} is used)
 * @param sizeWidth     fixed resize width (0 when {@code shortestEdge} is used)
 * @param resample      Pillow filter number: 2 = bilinear, 3 = bicubic
 * @param doCenterCrop  crop (padding with zeros if needed) to {@code cropHeight} x {@code cropWidth}
 * @param cropHeight    crop height
 * @param cropWidth     crop width
 * @param doRescale     multiply pixel values by {@code rescaleFactor}
 * @param rescaleFactor usually 1/255
 * @param doNormalize   subtract {@code imageMean} and divide by {@code imageStd}, per channel
 * @param imageMean     per-channel mean [3]
 * @param imageStd      per-channel standard deviation [3]
 * @param doConvertRgb  convert to RGB first (our images always are RGB; kept for completeness)
 */
public record ClipImageProcessorConfig(
        boolean doResize, int shortestEdge, int sizeHeight, int sizeWidth, int resample,
        boolean doCenterCrop, int cropHeight, int cropWidth,
        boolean doRescale, double rescaleFactor,
        boolean doNormalize, double[] imageMean, double[] imageStd,
        boolean doConvertRgb) {

    /** OpenAI CLIP's normalization constants, the Python class's defaults. */
    public static final double[] OPENAI_CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    public static final double[] OPENAI_CLIP_STD = {0.26862954, 0.26130258, 0.27577711};


    public ClipImageProcessorConfig {
        if (doResize && shortestEdge <= 0 && (sizeHeight <= 0 || sizeWidth <= 0)) {
            throw new IllegalArgumentException("size needs a positive shortest_edge or height and width");
        }
        if (doCenterCrop && (cropHeight <= 0 || cropWidth <= 0)) {
            throw new IllegalArgumentException("crop_size must be positive, got " + cropHeight + "x" + cropWidth);
        }
        PilResample.Filter.fromPil(resample); // fails early, naming the value
        if (imageMean.length != 3 || imageStd.length != 3) {
            throw new IllegalArgumentException("image_mean and image_std need 3 values (RGB), got "
                    + Arrays.toString(imageMean) + " and " + Arrays.toString(imageStd));
        }
        for (double s : imageStd) {
            if (!(s != 0.0 && Double.isFinite(s))) {
                throw new IllegalArgumentException("image_std must be finite and non-zero: " + Arrays.toString(imageStd));
            }
        }
        imageMean = imageMean.clone();
        imageStd = imageStd.clone();
    }

    /** openai/clip-vit-large-patch14-336: shortest edge 336, bicubic, center crop 336, CLIP mean/std. */
    public static ClipImageProcessorConfig clipVitLargePatch14_336() {
        return new ClipImageProcessorConfig(true, 336, 0, 0, 3, true, 336, 336, true, 1 / 255.0,
                true, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, true);
    }

    @Override
    public double[] imageMean() {
        return imageMean.clone();
    }

    @Override
    public double[] imageStd() {
        return imageStd.clone();
    }

    /** Reads a {@code preprocessor_config.json}; errors name the file and the key. */
    public static ClipImageProcessorConfig load(Path preprocessorConfigJson) {
        return fromJson(ConfigReader.read(preprocessorConfigJson), preprocessorConfigJson.toString());
    }

    /** Parses a parsed {@code preprocessor_config.json}; {@code source} names it in errors. */
    public static ClipImageProcessorConfig fromJson(JsonNode root, String source) {
        ConfigReader r = new ConfigReader(root, source);
        int shortestEdge = 0;
        int sizeHeight = 0;
        int sizeWidth = 0;
        JsonNode size = root.get("size");
        if (size == null || size.isNull()) {
            shortestEdge = 224;
        } else if (size.isIntegralNumber()) {
            shortestEdge = r.positive("size", size); // legacy int: the shortest edge in CLIP
        } else if (size.isObject() && size.has("shortest_edge")) {
            shortestEdge = r.positive("size.shortest_edge", size.get("shortest_edge"));
        } else if (size.isObject() && size.has("height") && size.has("width")) {
            sizeHeight = r.positive("size.height", size.get("height"));
            sizeWidth = r.positive("size.width", size.get("width"));
        } else {
            throw r.error("size", "must be an integer, {\"shortest_edge\": N} or {\"height\": H, \"width\": W}, got "
                    + size);
        }
        int cropHeight = 224;
        int cropWidth = 224;
        JsonNode crop = root.get("crop_size");
        if (crop != null && !crop.isNull()) {
            if (crop.isIntegralNumber()) {
                cropHeight = cropWidth = r.positive("crop_size", crop);
            } else if (crop.isObject() && crop.has("height") && crop.has("width")) {
                cropHeight = r.positive("crop_size.height", crop.get("height"));
                cropWidth = r.positive("crop_size.width", crop.get("width"));
            } else {
                throw r.error("crop_size", "must be an integer or {\"height\": H, \"width\": W}, got " + crop);
            }
        }
        int resample = PilResample.Filter.read(r);
        try {
            return new ClipImageProcessorConfig(
                    r.bool("do_resize", true), shortestEdge, sizeHeight, sizeWidth, resample,
                    r.bool("do_center_crop", true), cropHeight, cropWidth,
                    r.bool("do_rescale", true), r.number("rescale_factor", 1 / 255.0),
                    r.bool("do_normalize", true),
                    r.perChannel("image_mean", OPENAI_CLIP_MEAN), r.perChannel("image_std", OPENAI_CLIP_STD),
                    r.bool("do_convert_rgb", true));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }
}
