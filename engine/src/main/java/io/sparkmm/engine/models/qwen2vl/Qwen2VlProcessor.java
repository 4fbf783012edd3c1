package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.models.ProcessorSettings;
import io.sparkmm.processors.image.Qwen2VlPatches;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.image.Qwen2VlImageProcessor;
import io.sparkmm.processors.image.Qwen2VlImageProcessorConfig;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.media.VideoClip;
import io.sparkmm.processors.video.Qwen2VlVideoProcessor;
import io.sparkmm.processors.video.Qwen2VlVideoProcessorConfig;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Qwen2VLProcessor's behaviour: images through the Qwen2-VL image processor and videos through
 * its video processor into {@code pixel_values [t*h*w, C*T*P*P]} and {@code grid_thw} (videos
 * also {@code second_per_grid_t}, Qwen2.5-VL's seconds per temporal patch), and each
 * {@code <|image_pad|>} / {@code <|video_pad|>} of the prompt expanded to t*h*w / merge^2 pad
 * tokens, all of them embedded (the chat template or the user writes the
 * {@code <|vision_start|>}/{@code <|vision_end|>} around it, as with HF). Per request,
 * {@code min_pixels}/{@code max_pixels} change the resize budget, and for videos
 * {@code fps}/{@code num_frames}/{@code min_frames}/{@code max_frames}/{@code do_sample_frames} the
 * frames kept.
 *
 * <p>A video file is sampled as HF's {@code sample_frames} does; when the checkpoint asks for no
 * sampling and names no rate (HF's default, where the caller hands over frames it already chose),
 * a file is sampled at {@value #DEFAULT_FPS} fps, the rate Qwen recommends, rather than decoding
 * every frame of a long video.
 */
final class Qwen2VlProcessor implements FamilyProcessor {

    static final String PIXEL_VALUES = "pixel_values";
    static final String GRID_THW = "grid_thw";
    static final String SECOND_PER_GRID_T = "second_per_grid_t";
    static final String PREPROCESSOR_CONFIG = "preprocessor_config.json";
    static final String PROCESSOR_CONFIG = "processor_config.json";
    static final String VIDEO_PREPROCESSOR_CONFIG = "video_preprocessor_config.json";
    static final Set<String> KWARGS = Set.of("min_pixels", "max_pixels", "fps", "num_frames", "min_frames",
            "max_frames", "do_sample_frames");
    static final double DEFAULT_FPS = 2.0;

    private final Qwen2VlConfig config;
    private final Qwen2VlImageProcessor images;
    private final Qwen2VlVideoProcessor videos;
    private final String fingerprint;
    private final PromptReplacement imagePad;
    private final PromptReplacement videoPad;

    private Qwen2VlProcessor(Qwen2VlConfig config, Qwen2VlImageProcessor images, Qwen2VlVideoProcessor videos,
                             String fingerprint) {
        this.config = config;
        this.images = images;
        this.videos = videos;
        this.fingerprint = fingerprint;
        this.imagePad = new PromptReplacement("image", "<|image_pad|>", config.imageTokenId(), config.imageTokenId());
        this.videoPad = new PromptReplacement("video", "<|video_pad|>", config.videoTokenId(), config.videoTokenId());
    }

    /**
     * The image processor's settings from {@code preprocessor_config.json} (transformers 4.x and the
     * Hub), else the {@code image_processor} entry of {@code processor_config.json} (transformers 5);
     * the video processor's from {@code video_preprocessor_config.json}, else the
     * {@code video_processor} entry, else the image processor's, as HF's video processor falls back.
     */
    static Qwen2VlProcessor load(Path dir, Qwen2VlConfig config) {
        JsonNode processor = ProcessorSettings.processorConfig(dir);
        ProcessorSettings imageSettings = ProcessorSettings.find(dir, PREPROCESSOR_CONFIG, processor, "image_processor");
        if (imageSettings == null) {
            throw new IllegalArgumentException("multimodal model " + dir + " has no " + PREPROCESSOR_CONFIG + " and no "
                    + PROCESSOR_CONFIG + " with an image_processor entry");
        }
        ProcessorSettings video = ProcessorSettings.find(dir, VIDEO_PREPROCESSOR_CONFIG, processor, "video_processor");
        ProcessorSettings videoSettings = video != null ? video : imageSettings;
        Qwen2VlImageProcessorConfig image = Qwen2VlImageProcessorConfig.fromJson(imageSettings.node(), imageSettings.source());
        Qwen2VlVideoProcessorConfig videoConfig = Qwen2VlVideoProcessorConfig.fromJson(videoSettings.node(), videoSettings.source());
        requireTowerGeometry(imageSettings.source(), image.patchSize(), image.mergeSize(), image.temporalPatchSize(),
                config.vision());
        requireTowerGeometry(videoSettings.source(), videoConfig.patchSize(), videoConfig.mergeSize(), videoConfig.temporalPatchSize(),
                config.vision());
        return new Qwen2VlProcessor(config, new Qwen2VlImageProcessor(image), new Qwen2VlVideoProcessor(videoConfig),
                imageSettings.node() + "|" + videoSettings.node());
    }

    /** The processor's patches must be the ones the vision tower was built for. */
    private static void requireTowerGeometry(String source, int patch, int merge, int temporal, Qwen2VlVisionConfig v) {
        if (patch != v.patchSize() || merge != v.mergeSize() || temporal != v.temporalPatchSize()) {
            throw new IllegalArgumentException(source + ": patch_size/merge_size/temporal_patch_size " + patch + "/"
                    + merge + "/" + temporal + " differ from the vision tower's " + v.patchSize() + "/" + v.mergeSize()
                    + "/" + v.temporalPatchSize());
        }
    }

    @Override
    public List<String> modalities() {
        return List.of("image", "video");
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public Set<String> processorKwargs() {
        return KWARGS;
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits) {
        return process(hash, modality, bytes, limits, ProcessorKwargs.NONE);
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits,
                                 ProcessorKwargs kwargs) {
        kwargs.requireOnly(KWARGS, "Qwen2-VL's processor");
        requireModality(modality);
        if (modality.equals("video")) {
            return processVideo(hash, bytes, limits, kwargs);
        }
        RgbImage image = MediaIO.readImage(bytes, limits);
        Qwen2VlPatches p = withBudget(images, kwargs).process(image);
        return new ProcessedItem(hash, modality, Map.of(
                PIXEL_VALUES, new ItemTensor(p.pixelValues(), new int[] {p.numPatches(), images.patchDim()}),
                GRID_THW, ItemTensor.ofInts(new int[] {p.gridT(), p.gridH(), p.gridW()}, 3)));
    }

    private ProcessedItem processVideo(String hash, MediaSource bytes, MediaLimits limits, ProcessorKwargs kwargs) {
        Qwen2VlVideoProcessor video = videoFor(kwargs);
        VideoClip clip = MediaIO.readVideo(bytes, video.videoSampling(), limits);
        if (clip.numFrames() == 0) {
            throw new IllegalArgumentException("video " + bytes.name() + " has no decodable frames");
        }
        Qwen2VlPatches p = video.process(clip);
        return new ProcessedItem(hash, "video", Map.of(
                PIXEL_VALUES, new ItemTensor(p.pixelValues(), new int[] {p.numPatches(), video.patchDim()}),
                GRID_THW, ItemTensor.ofInts(new int[] {p.gridT(), p.gridH(), p.gridW()}, 3),
                SECOND_PER_GRID_T, new ItemTensor(new float[] {(float) video.secondPerGridT(clip)}, new int[] {1})));
    }

    /** The video processor with a request's settings, sampling a file at the default rate if nothing says how. */
    private Qwen2VlVideoProcessor videoFor(ProcessorKwargs kwargs) {
        Qwen2VlVideoProcessorConfig c = videos.config();
        Integer min = kwargs.optionalPositiveInt("min_pixels");
        Integer max = kwargs.optionalPositiveInt("max_pixels");
        Double fps = kwargs.optionalPositiveNumber("fps");
        Integer numFrames = kwargs.optionalPositiveInt("num_frames");
        Integer minFrames = kwargs.optionalPositiveInt("min_frames");
        Integer maxFrames = kwargs.optionalPositiveInt("max_frames");
        Boolean sample = true;
        Object given = kwargs.values().get("do_sample_frames");
        if (given != null) {
            if (!(given instanceof Boolean b)) {
                throw new IllegalArgumentException("mm_processor_kwargs: \"do_sample_frames\" must be true or false, got " + given);
            }
            sample = b;
        }
        if (fps != null && numFrames != null) {
            throw new IllegalArgumentException("mm_processor_kwargs: give fps or num_frames, not both");
        }
        Qwen2VlVideoProcessor base = videos;
        if (fps != null || numFrames != null) {
            // the request's rule replaces the checkpoint's, whichever of the two that was
            base = new Qwen2VlVideoProcessor(c.withSamplingRule(fps, numFrames));
            fps = null;
            numFrames = null;
        } else if (sample && c.fps() == null && c.numFrames() == null) {
            fps = DEFAULT_FPS;
        }
        return base.withOverrides(min, max, sample, fps, numFrames, minFrames, maxFrames);
    }

    /** The image processor with a request's own pixel budget, as vLLM's mm_processor_kwargs give it. */
    static Qwen2VlImageProcessor withBudget(Qwen2VlImageProcessor base, ProcessorKwargs kwargs) {
        if (kwargs.isEmpty()) {
            return base;
        }
        Qwen2VlImageProcessorConfig c = base.config();
        int min = kwargs.positiveInt("min_pixels", c.minPixels());
        int max = kwargs.positiveInt("max_pixels", c.maxPixels());
        if (min > max) {
            throw new IllegalArgumentException("mm_processor_kwargs: min_pixels " + min + " is above max_pixels " + max);
        }
        return new Qwen2VlImageProcessor(new Qwen2VlImageProcessorConfig(c.patchSize(), c.temporalPatchSize(),
                c.mergeSize(), min, max, c.doResize(), c.resample(), c.doRescale(), c.rescaleFactor(),
                c.doNormalize(), c.imageMean(), c.imageStd()));
    }

    @Override
    public PromptReplacement placeholder(String modality) {
        requireModality(modality);
        return modality.equals("video") ? videoPad : imagePad;
    }

    @Override
    public ItemReplacement replacement(ProcessedItem item) {
        requireModality(item.modality());
        int[] g = item.tensor(GRID_THW).ints();
        return ItemReplacement.repeat(placeholder(item.modality()).featureTokenId(), config.tokensFor(g[0], g[1], g[2]));
    }

    /**
     * smart_resize of the size under the request's pixel budget, then (h / patch) * (w / patch) / merge^2
     * pad tokens: the count {@link #replacement} gives once the image is processed.
     */
    @Override
    public OptionalInt imageTokens(int width, int height, ProcessorKwargs kwargs) {
        kwargs.requireOnly(KWARGS, "Qwen2-VL's processor");
        int[] g = withBudget(images, kwargs).gridThw(width, height);
        return OptionalInt.of(config.tokensFor(g[0], g[1], g[2]));
    }

    /**
     * The most tokens one item can become under the checkpoint's own settings: an image at its
     * pixel budget, or a video of max_frames frames at the video budget.
     */
    long maxTokensPerItem() {
        int factor = images.config().factor();
        long image = Math.max(1, images.config().maxPixels() / (factor * factor));
        Qwen2VlVideoProcessorConfig v = videos.config();
        long steps = (v.maxFrames() + v.temporalPatchSize() - 1) / v.temporalPatchSize();
        long video = steps * Math.max(1, v.maxPixels() / ((long) v.factor() * v.factor()));
        return Math.max(image, video);
    }

    private void requireModality(String modality) {
        if (!modalities().contains(modality)) {
            throw new IllegalArgumentException("this Qwen2-VL model takes " + String.join(" and ", modalities())
                    + ", not " + modality);
        }
    }
}
