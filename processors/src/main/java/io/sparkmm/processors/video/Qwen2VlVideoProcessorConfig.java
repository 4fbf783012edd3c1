package io.sparkmm.processors.video;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.processors.ConfigReader;
import io.sparkmm.processors.image.PixelBudget;
import io.sparkmm.processors.image.ClipImageProcessorConfig;
import io.sparkmm.processors.image.PilResample;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The settings of Hugging Face's Qwen2-VL video processor ({@code Qwen2VLVideoProcessor},
 * transformers 5.18), as read from a {@code video_preprocessor_config.json} (or, for hub repos
 * without one, the {@code preprocessor_config.json} HF falls back to). Absent keys take the Python
 * class's defaults, which differ from the image processor's: the pixel budget is
 * 128*28*28 .. 768*28*28 per frame, not 56*56 .. 1280*28*28.
 *
 * @param patchSize         side of a square ViT patch (14)
 * @param temporalPatchSize frames per patch along time (2); the frame count is padded up to a multiple
 * @param mergeSize         side of the square of patches merged into one token (2)
 * @param minPixels         smallest resized frame pixel count (size.shortest_edge, legacy min_pixels)
 * @param maxPixels         largest resized frame pixel count (size.longest_edge, legacy max_pixels)
 * @param doResize          resize every frame with smart_resize; when off, sides must be multiples
 *                          of patchSize * mergeSize
 * @param resample          Pillow filter number (3 = bicubic); HF maps it to torchvision's mode,
 *                          we resample with Pillow's algorithm
 * @param doRescale         multiply by {@code rescaleFactor}
 * @param rescaleFactor     usually 1/255
 * @param doNormalize       subtract {@code imageMean}, divide by {@code imageStd}, per channel
 * @param imageMean         per-channel mean [3]
 * @param imageStd          per-channel standard deviation [3]
 * @param doSampleFrames    pick frames with HF's {@code sample_frames}; off (HF's default, kept for
 *                          backward compatibility): every decoded frame is used
 * @param fps               frames per second to sample, or null; exclusive with {@code numFrames}
 * @param numFrames         frames to sample, or null; rounded to a multiple of temporalPatchSize
 * @param minFrames         fewest frames the fps rule samples (4)
 * @param maxFrames         most frames the fps rule samples (768)
 * @param capPixelsPerFrame qwen-vl-utils' total-video pixel budget (HF's cap_pixels_per_frame;
 *                          unset in HF means off, with a warning that it becomes the default later)
 * @param maxVideoTokens    context length the total budget is derived from (128000)
 */
public record Qwen2VlVideoProcessorConfig(
        int patchSize, int temporalPatchSize, int mergeSize, int minPixels, int maxPixels,
        boolean doResize, int resample, boolean doRescale, double rescaleFactor,
        boolean doNormalize, double[] imageMean, double[] imageStd,
        boolean doSampleFrames, Double fps, Integer numFrames, int minFrames, int maxFrames,
        boolean capPixelsPerFrame, int maxVideoTokens) {

    public static final int DEFAULT_MIN_PIXELS = 128 * 28 * 28;
    public static final int DEFAULT_MAX_PIXELS = 28 * 28 * 768;
    public static final int DEFAULT_MIN_FRAMES = 4;
    public static final int DEFAULT_MAX_FRAMES = 768;
    public static final int DEFAULT_MAX_VIDEO_TOKENS = 128000;

    public Qwen2VlVideoProcessorConfig {
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
        if (fps != null && !(fps > 0 && Double.isFinite(fps))) {
            throw new IllegalArgumentException("fps must be finite and positive, got " + fps);
        }
        if (numFrames != null && numFrames <= 0) {
            throw new IllegalArgumentException("num_frames must be positive, got " + numFrames);
        }
        // HF raises this only once it samples; a config that cannot sample should not load.
        if (doSampleFrames && fps != null && numFrames != null) {
            throw new IllegalArgumentException("`num_frames` and `fps` are mutually exclusive, got num_frames="
                    + numFrames + " and fps=" + fps);
        }
        if (minFrames <= 0 || maxFrames <= 0 || maxVideoTokens <= 0) {
            throw new IllegalArgumentException("min_frames, max_frames and max_video_tokens must be positive, got "
                    + minFrames + ", " + maxFrames + ", " + maxVideoTokens);
        }
        imageMean = imageMean.clone();
        imageStd = imageStd.clone();
    }

    /** HF's class defaults: an empty {@code video_preprocessor_config.json}. */
    public static Qwen2VlVideoProcessorConfig qwen2Vl() {
        return new Qwen2VlVideoProcessorConfig(14, 2, 2, DEFAULT_MIN_PIXELS, DEFAULT_MAX_PIXELS, true, 3,
                true, 1 / 255.0, true, ClipImageProcessorConfig.OPENAI_CLIP_MEAN,
                ClipImageProcessorConfig.OPENAI_CLIP_STD, false, null, null, DEFAULT_MIN_FRAMES, DEFAULT_MAX_FRAMES,
                false, DEFAULT_MAX_VIDEO_TOKENS);
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

    /** Reads a {@code video_preprocessor_config.json}; errors name the file and the key. */
    public static Qwen2VlVideoProcessorConfig load(Path videoPreprocessorConfigJson) {
        return fromJson(ConfigReader.read(videoPreprocessorConfigJson), videoPreprocessorConfigJson.toString());
    }

    /**
     * Parses a parsed config; {@code source} names it in errors. As in HF's constructor, top-level
     * {@code min_pixels}/{@code max_pixels} override the matching entries of {@code size}.
     */
    public static Qwen2VlVideoProcessorConfig fromJson(JsonNode root, String source) {
        ConfigReader r = new ConfigReader(root, source);
        PixelBudget budget = PixelBudget.read(r, root, new PixelBudget(DEFAULT_MIN_PIXELS, DEFAULT_MAX_PIXELS));
        int minPixels = budget.minPixels();
        int maxPixels = budget.maxPixels();
        int resample = PilResample.Filter.read(r);
        Double fps = null;
        if (r.has("fps")) {
            double v = r.number("fps", 0);
            if (!(v > 0)) {
                throw r.error("fps", "must be positive, got " + v);
            }
            fps = v;
        }
        Integer numFrames = r.has("num_frames") ? r.positive("num_frames", 1) : null;
        boolean doSample = r.bool("do_sample_frames", false);
        if (doSample && fps != null && numFrames != null) {
            throw r.error("num_frames", "and \"fps\" are mutually exclusive when do_sample_frames is true");
        }
        try {
            return new Qwen2VlVideoProcessorConfig(
                    r.positive("patch_size", 14), r.positive("temporal_patch_size", 2), r.positive("merge_size", 2),
                    minPixels, maxPixels, r.bool("do_resize", true), resample,
                    r.bool("do_rescale", true), r.number("rescale_factor", 1 / 255.0),
                    r.bool("do_normalize", true),
                    r.perChannel("image_mean", ClipImageProcessorConfig.OPENAI_CLIP_MEAN),
                    r.perChannel("image_std", ClipImageProcessorConfig.OPENAI_CLIP_STD),
                    doSample, fps, numFrames, r.positive("min_frames", DEFAULT_MIN_FRAMES),
                    r.positive("max_frames", DEFAULT_MAX_FRAMES), r.bool("cap_pixels_per_frame", false),
                    r.positive("max_video_tokens", DEFAULT_MAX_VIDEO_TOKENS));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /**
     * A copy sampling by exactly one rule: {@code fps} frames per second or {@code numFrames} frames
     * (the other null), whatever the configured one was; a request asking for a frame count overrides
     * a checkpoint's rate rather than clashing with it.
     */
    public Qwen2VlVideoProcessorConfig withSamplingRule(Double fps, Integer numFrames) {
        if ((fps == null) == (numFrames == null)) {
            throw new IllegalArgumentException("give exactly one of fps and num_frames, got fps=" + fps
                    + ", num_frames=" + numFrames);
        }
        return new Qwen2VlVideoProcessorConfig(patchSize, temporalPatchSize, mergeSize, minPixels, maxPixels,
                doResize, resample, doRescale, rescaleFactor, doNormalize, imageMean, imageStd, doSampleFrames,
                fps, numFrames, minFrames, maxFrames, capPixelsPerFrame, maxVideoTokens);
    }

    /** A copy with some settings replaced; a null argument keeps the current value. */
    Qwen2VlVideoProcessorConfig with(Integer minPixels, Integer maxPixels, Boolean doSampleFrames, Double fps,
                                     Integer numFrames, Integer minFrames, Integer maxFrames) {
        return new Qwen2VlVideoProcessorConfig(patchSize, temporalPatchSize, mergeSize,
                minPixels != null ? minPixels : this.minPixels, maxPixels != null ? maxPixels : this.maxPixels,
                doResize, resample, doRescale, rescaleFactor, doNormalize, imageMean, imageStd,
                doSampleFrames != null ? doSampleFrames : this.doSampleFrames,
                fps != null ? fps : this.fps, numFrames != null ? numFrames : this.numFrames,
                minFrames != null ? minFrames : this.minFrames, maxFrames != null ? maxFrames : this.maxFrames,
                capPixelsPerFrame, maxVideoTokens);
    }
}
