package io.sparkmm.processors.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.processors.ConfigReader;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The settings of Hugging Face's Qwen2-VL image processor, as read from a
 * {@code preprocessor_config.json}. Absent keys take the Python class's defaults.
 *
 * @param patchSize         side of a square ViT patch (14)
 * @param temporalPatchSize frames per patch along time (2); a still image is repeated to fill it
 * @param mergeSize         side of the square of patches the model merges into one token (2)
 * @param minPixels         smallest resized pixel count (HF size.shortest_edge, legacy min_pixels)
 * @param maxPixels         largest resized pixel count (HF size.longest_edge, legacy max_pixels)
 * @param doResize          apply {@link SmartResize}; when off, the input sides must already be
 *                          multiples of patchSize * mergeSize
 * @param resample          Pillow filter number: 2 = bilinear, 3 = bicubic
 * @param doRescale         multiply pixel values by {@code rescaleFactor}
 * @param rescaleFactor     usually 1/255
 * @param doNormalize       subtract {@code imageMean} and divide by {@code imageStd}, per channel
 * @param imageMean         per-channel mean [3]
 * @param imageStd          per-channel standard deviation [3]
 */
public record Qwen2VlImageProcessorConfig(
        int patchSize, int temporalPatchSize, int mergeSize, int minPixels, int maxPixels,
        boolean doResize, int resample, boolean doRescale, double rescaleFactor,
        boolean doNormalize, double[] imageMean, double[] imageStd) {

    public static final int DEFAULT_MIN_PIXELS = 56 * 56;
    public static final int DEFAULT_MAX_PIXELS = 28 * 28 * 1280;


    public Qwen2VlImageProcessorConfig {
        if (patchSize <= 0 || temporalPatchSize <= 0 || mergeSize <= 0) {
            throw new IllegalArgumentException("patch_size, temporal_patch_size and merge_size must be positive, got "
                    + patchSize + ", " + temporalPatchSize + ", " + mergeSize);
        }
        if (minPixels <= 0 || maxPixels <= 0) {
            throw new IllegalArgumentException("min_pixels and max_pixels must be positive, got " + minPixels
                    + " and " + maxPixels);
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

    /** Qwen/Qwen2-VL-*-Instruct: patch 14, temporal 2, merge 2, 3136..1003520 pixels, bicubic, CLIP mean/std. */
    public static Qwen2VlImageProcessorConfig qwen2Vl() {
        return new Qwen2VlImageProcessorConfig(14, 2, 2, DEFAULT_MIN_PIXELS, DEFAULT_MAX_PIXELS, true, 3,
                true, 1 / 255.0, true, ClipImageProcessorConfig.OPENAI_CLIP_MEAN, ClipImageProcessorConfig.OPENAI_CLIP_STD);
    }

    /** patch_size * merge_size: the resized sides are multiples of it. */
    public int factor() {
        return patchSize * mergeSize;
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
    public static Qwen2VlImageProcessorConfig load(Path preprocessorConfigJson) {
        return fromJson(ConfigReader.read(preprocessorConfigJson), preprocessorConfigJson.toString());
    }

    /**
     * Parses a parsed {@code preprocessor_config.json}; {@code source} names it in errors. As in HF's
     * constructor, legacy top-level {@code min_pixels}/{@code max_pixels} override the matching
     * entries of {@code size}.
     */
    public static Qwen2VlImageProcessorConfig fromJson(JsonNode root, String source) {
        ConfigReader r = new ConfigReader(root, source);
        PixelBudget budget = PixelBudget.read(r, root, new PixelBudget(DEFAULT_MIN_PIXELS, DEFAULT_MAX_PIXELS));
        int minPixels = budget.minPixels();
        int maxPixels = budget.maxPixels();
        int resample = PilResample.Filter.read(r);
        try {
            return new Qwen2VlImageProcessorConfig(
                    r.positive("patch_size", 14), r.positive("temporal_patch_size", 2), r.positive("merge_size", 2),
                    minPixels, maxPixels, r.bool("do_resize", true), resample,
                    r.bool("do_rescale", true), r.number("rescale_factor", 1 / 255.0),
                    r.bool("do_normalize", true),
                    r.perChannel("image_mean", ClipImageProcessorConfig.OPENAI_CLIP_MEAN),
                    r.perChannel("image_std", ClipImageProcessorConfig.OPENAI_CLIP_STD));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }
}
