package io.sparkmm.engine.models.llavaonevision;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ProcessorSettings;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.image.LlavaOnevisionImageProcessor;
import io.sparkmm.processors.image.LlavaOnevisionImageProcessorConfig;
import io.sparkmm.processors.image.LlavaOnevisionPixels;
import io.sparkmm.processors.image.LlavaOnevisionTokenCount;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.media.VideoClip;
import io.sparkmm.processors.media.VideoSampling;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;
import io.sparkmm.processors.video.LlavaOnevisionVideoProcessor;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * LlavaOnevisionProcessor's behaviour (transformers 5.18):
 * <ul>
 *   <li>an image alone in its prompt: AnyRes tiling into {@code pixel_values [numPatches, 3, S, S]}
 *       with the original {@code image_sizes}, and its {@code <image>} expanded to
 *       {@link LlavaOnevisionTokenCount#imageTokens} tokens;</li>
 *   <li>each image of a prompt with several: padded to a square with the mean colour and resized, one
 *       patch, {@code side^2 + 1} tokens (its features and one image_newline), as HF does when
 *       {@code batch_num_images} of the prompt is not 1;</li>
 *   <li>a video: its frames resized to S x S ({@link LlavaOnevisionVideoProcessor}) into
 *       {@code pixel_values_videos [T, 3, S, S]}, its {@code <video>} expanded to
 *       {@code T * ceil(side / 2)^2 + 1} tokens (pooled features of each frame, one image_newline).</li>
 * </ul>
 * Every placeholder token is embedded.
 *
 * <p>Frames: HF's video processor samples none (the caller hands it frames); as vLLM's video loader,
 * a file gives {@value VideoSampling#DEFAULT_NUM_FRAMES} frames spread uniformly over it (all of a
 * shorter one). Per request, {@code num_frames} changes that count, or {@code fps} samples at a rate
 * instead (capped at the media limits' frame count).
 */
final class LlavaOnevisionProcessor implements FamilyProcessor {

    static final String PIXEL_VALUES = "pixel_values";
    static final String IMAGE_SIZES = "image_sizes";
    static final String PIXEL_VALUES_VIDEOS = "pixel_values_videos";
    static final String VIDEO_PREPROCESSOR_CONFIG = "video_preprocessor_config.json";
    /** The per-request settings a user may give. */
    static final Set<String> KWARGS = Set.of("num_frames", "fps");
    /** Set by {@link #promptSettings} on the images of a prompt with several; not a user setting. */
    static final String MULTI_IMAGE = "multi_image";

    private final LlavaOnevisionConfig config;
    private final LlavaOnevisionImageProcessor images;
    private final LlavaOnevisionVideoProcessor videos;
    private final LlavaOnevisionTokenCount count;
    private final String fingerprint;
    private final PromptReplacement imagePlaceholder;
    private final PromptReplacement videoPlaceholder;

    private LlavaOnevisionProcessor(LlavaOnevisionConfig config, LlavaOnevisionImageProcessor images,
                                    LlavaOnevisionVideoProcessor videos, LlavaOnevisionTokenCount count,
                                    String fingerprint) {
        this.config = config;
        this.images = images;
        this.videos = videos;
        this.count = count;
        this.fingerprint = fingerprint;
        int image = config.imageTokenIndex();
        int video = config.videoTokenIndex();
        this.imagePlaceholder = new PromptReplacement("image", "<image>", image, image);
        this.videoPlaceholder = new PromptReplacement("video", "<video>", video, video);
    }

    /**
     * Image settings from {@code preprocessor_config.json} (transformers 4 and the Hub), else the
     * {@code image_processor} entry of {@code processor_config.json} (transformers 5); video settings
     * from {@code video_preprocessor_config.json}, else the {@code video_processor} entry, else the
     * image settings. The token count follows the model config (tower grid, anyres_max_N); a
     * processor_config.json that says otherwise would make HF's own model fail, so it is refused here
     * rather than followed.
     */
    static LlavaOnevisionProcessor load(Path dir, LlavaOnevisionConfig config) {
        ProcessorSettings found = ProcessorSettings.read(dir, "image_processor", "multimodal");
        JsonNode settings = found.node();
        String source = found.source();
        Path proc = dir.resolve(ProcessorSettings.PROCESSOR_CONFIG);
        JsonNode processor = ProcessorSettings.processorConfig(dir);
        LlavaOnevisionImageProcessorConfig image = LlavaOnevisionImageProcessorConfig.fromJson(settings, source);
        int tile = config.visionConfig().imageSize();
        if (image.sizeHeight() != tile || image.sizeWidth() != tile || image.tileSize() != tile) {
            throw new IllegalArgumentException(source + ": patches of " + image.sizeHeight() + "x" + image.sizeWidth()
                    + " (tiles " + image.tileSize() + ") differ from the vision tower's image_size " + tile);
        }
        if (!Arrays.deepEquals(image.pinpoints(), config.pinpoints())) {
            throw new IllegalArgumentException(source + ": image_grid_pinpoints differ from config.json's; the model"
                    + " would split the features of an image by another tile count than the processor made");
        }
        ProcessorSettings videoFound = ProcessorSettings.find(dir, VIDEO_PREPROCESSOR_CONFIG, processor, "video_processor");
        ProcessorSettings videoSettings = videoFound != null ? videoFound : found;
        LlavaOnevisionImageProcessorConfig video = LlavaOnevisionImageProcessorConfig.fromJson(videoSettings.node(),
                videoSettings.source());
        if (!video.doResize() || video.sizeHeight() != tile || video.sizeWidth() != tile) {
            // HF's model views each frame's features as a side x side grid: any other frame size fails there
            throw new IllegalArgumentException(videoSettings.source() + ": video frames of " + video.sizeHeight() + "x"
                    + video.sizeWidth() + (video.doResize() ? "" : " (do_resize false)")
                    + " differ from the vision tower's image_size " + tile);
        }
        if (videoFound != null && videoFound.node().path("do_sample_frames").asBoolean(false)) {
            throw new IllegalArgumentException(videoFound.source() + ": do_sample_frames true is not supported; frames"
                    + " are chosen by the num_frames / fps processor settings");
        }
        if (processor != null) {
            requireSame(proc, processor, "num_image_tokens", config.tokensPerPatch());
            requireSame(proc, processor, "vision_aspect_ratio", "anyres_max_" + config.maxNumPatches());
            requireSame(proc, processor, "vision_feature_select_strategy", "full");
        }
        LlavaOnevisionTokenCount count = new LlavaOnevisionTokenCount(config.tokensPerPatch(), config.maxNumPatches(),
                false, config.pinpoints(), tile, tile);
        return new LlavaOnevisionProcessor(config, new LlavaOnevisionImageProcessor(image),
                new LlavaOnevisionVideoProcessor(video), count,
                settings + "|" + videoSettings.node() + "|" + config.maxNumPatches());
    }

    private static void requireSame(Path file, JsonNode processor, String key, Object expected) {
        JsonNode v = processor.get(key);
        if (v != null && !v.isNull() && !v.asText().equals(String.valueOf(expected))) {
            throw new IllegalArgumentException(file + ": " + key + " is " + v + " but config.json implies " + expected);
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

    /** HF tiles an image only when it is its prompt's one image ({@code batch_num_images == 1}). */
    @Override
    public ProcessorKwargs promptSettings(String modality, Map<String, Integer> counts) {
        return modality.equals("image") && counts.getOrDefault("image", 0) > 1
                ? new ProcessorKwargs(Map.of(MULTI_IMAGE, true)) : ProcessorKwargs.NONE;
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits) {
        return process(hash, modality, bytes, limits, ProcessorKwargs.NONE);
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits,
                                 ProcessorKwargs kwargs) {
        requireModality(modality);
        if (modality.equals("video")) {
            return processVideo(hash, bytes, limits, kwargs);
        }
        RgbImage image = MediaIO.readImage(bytes, limits);
        LlavaOnevisionPixels p = multiImage(kwargs) ? images.processOfMany(image) : images.process(image);
        return new ProcessedItem(hash, modality, Map.of(
                PIXEL_VALUES, new ItemTensor(p.pixelValues(), new int[] {p.numPatches(), 3, p.height(), p.width()}),
                IMAGE_SIZES, ItemTensor.ofInts(new int[] {p.imageHeight(), p.imageWidth()}, 2)));
    }

    private ProcessedItem processVideo(String hash, MediaSource bytes, MediaLimits limits, ProcessorKwargs kwargs) {
        VideoClip clip = MediaIO.readVideo(bytes, sampling(kwargs), limits);
        if (clip.numFrames() == 0) {
            throw new IllegalArgumentException("video " + bytes.name() + " has no decodable frames");
        }
        RgbImage first = clip.frames().get(0);
        int[] size = videos.outputSize(first.width(), first.height());
        return new ProcessedItem(hash, "video", Map.of(PIXEL_VALUES_VIDEOS, new ItemTensor(videos.process(clip.frames()),
                new int[] {clip.numFrames(), 3, size[0], size[1]})));
    }

    /** vLLM's uniform 32 frames, or the request's num_frames or fps. */
    static VideoSampling sampling(ProcessorKwargs kwargs) {
        Integer n = kwargs.optionalPositiveInt("num_frames");
        Double fps = kwargs.optionalPositiveNumber("fps");
        if (n != null && fps != null) {
            throw new IllegalArgumentException("mm_processor_kwargs: give fps or num_frames, not both");
        }
        return fps != null ? VideoSampling.atFps(fps) : VideoSampling.uniform(n != null ? n : VideoSampling.DEFAULT_NUM_FRAMES);
    }

    private static boolean multiImage(ProcessorKwargs kwargs) {
        return Boolean.TRUE.equals(kwargs.values().get(MULTI_IMAGE));
    }

    @Override
    public PromptReplacement placeholder(String modality) {
        requireModality(modality);
        return modality.equals("video") ? videoPlaceholder : imagePlaceholder;
    }

    @Override
    public ItemReplacement replacement(ProcessedItem item) {
        requireModality(item.modality());
        if (item.modality().equals("video")) {
            long n = config.videoTokens(item.tensor(PIXEL_VALUES_VIDEOS).shape()[0]);
            return ItemReplacement.repeat(videoPlaceholder.featureTokenId(), Math.toIntExact(n));
        }
        return ItemReplacement.repeat(imagePlaceholder.featureTokenId(), imageTokens(item));
    }

    /**
     * Image tokens of a processed image: one patch (an image of a multi-image prompt; a lone image
     * always has its base patch and at least one tile) is side^2 + 1, else the AnyRes count.
     */
    int imageTokens(ProcessedItem item) {
        int[] size = item.tensor(IMAGE_SIZES).ints();
        return item.tensor(PIXEL_VALUES).shape()[0] == 1 ? config.tokensPerPatch() + 1
                : count.imageTokens(size[0], size[1]);
    }

    @Override
    public OptionalInt imageTokens(int width, int height, ProcessorKwargs kwargs) {
        return OptionalInt.of(multiImage(kwargs) ? config.tokensPerPatch() + 1 : count.imageTokens(height, width));
    }

    private void requireModality(String modality) {
        if (!modality.equals("image") && !modality.equals("video")) {
            throw new IllegalArgumentException("this LLaVA-OneVision model takes images and videos, not " + modality);
        }
    }
}
