package io.sparkmm.engine.models.qwen2vl;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.processors.ConfigReader;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.image.Qwen2VlImageProcessor;
import io.sparkmm.processors.image.Qwen2VlImageProcessorConfig;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Qwen2VLProcessor's behaviour: images through the Qwen2-VL image processor into
 * {@code pixel_values [t*h*w, C*T*P*P]} and {@code grid_thw}, and each {@code <|image_pad|>} of
 * the prompt expanded to t*h*w / merge^2 pad tokens, all of them embedded (the chat template or
 * the user writes the {@code <|vision_start|>}/{@code <|vision_end|>} around it, as with HF).
 * Per request, {@code min_pixels}/{@code max_pixels} change the resize budget.
 */
final class Qwen2VlProcessor implements FamilyProcessor {

    static final String PIXEL_VALUES = "pixel_values";
    static final String GRID_THW = "grid_thw";
    static final String SECOND_PER_GRID_T = "second_per_grid_t";
    static final String PREPROCESSOR_CONFIG = "preprocessor_config.json";
    static final String PROCESSOR_CONFIG = "processor_config.json";
    static final Set<String> KWARGS = Set.of("min_pixels", "max_pixels");

    private final Qwen2VlConfig config;
    private final Qwen2VlImageProcessor images;
    private final String fingerprint;
    private final PromptReplacement imagePad;
    private final PromptReplacement videoPad;

    private Qwen2VlProcessor(Qwen2VlConfig config, Qwen2VlImageProcessor images, String fingerprint) {
        this.config = config;
        this.images = images;
        this.fingerprint = fingerprint;
        this.imagePad = new PromptReplacement("image", "<|image_pad|>", config.imageTokenId(), config.imageTokenId());
        this.videoPad = new PromptReplacement("video", "<|video_pad|>", config.videoTokenId(), config.videoTokenId());
    }

    /**
     * Settings from {@code preprocessor_config.json} (transformers 4.x and the Hub), else the
     * {@code image_processor} entry of {@code processor_config.json} (transformers 5).
     */
    static Qwen2VlProcessor load(Path dir, Qwen2VlConfig config) {
        JsonNode settings = section(dir, PREPROCESSOR_CONFIG, "image_processor");
        String source = Files.isRegularFile(dir.resolve(PREPROCESSOR_CONFIG)) ? dir.resolve(PREPROCESSOR_CONFIG).toString()
                : dir.resolve(PROCESSOR_CONFIG) + " image_processor";
        Qwen2VlImageProcessorConfig image = Qwen2VlImageProcessorConfig.fromJson(settings, source);
        Qwen2VlVisionConfig v = config.vision();
        if (image.patchSize() != v.patchSize() || image.mergeSize() != v.mergeSize()
                || image.temporalPatchSize() != v.temporalPatchSize()) {
            throw new IllegalArgumentException(source + ": patch_size/merge_size/temporal_patch_size "
                    + image.patchSize() + "/" + image.mergeSize() + "/" + image.temporalPatchSize()
                    + " differ from the vision tower's " + v.patchSize() + "/" + v.mergeSize() + "/" + v.temporalPatchSize());
        }
        return new Qwen2VlProcessor(config, new Qwen2VlImageProcessor(image), settings.toString());
    }

    private static JsonNode section(Path dir, String ownFile, String entry) {
        Path own = dir.resolve(ownFile);
        if (Files.isRegularFile(own)) {
            return ConfigReader.read(own);
        }
        Path proc = dir.resolve(PROCESSOR_CONFIG);
        if (Files.isRegularFile(proc)) {
            JsonNode node = ConfigReader.read(proc).path(entry);
            if (node.isObject()) {
                return node;
            }
        }
        throw new IllegalArgumentException("multimodal model " + dir + " has no " + ownFile + " and no "
                + PROCESSOR_CONFIG + " with an " + entry + " entry");
    }

    @Override
    public List<String> modalities() {
        return List.of("image");
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
        RgbImage image = MediaIO.readImage(bytes, limits);
        Qwen2VlImageProcessor.Patches p = withBudget(images, kwargs).process(image);
        return new ProcessedItem(hash, modality, Map.of(
                PIXEL_VALUES, new ItemTensor(p.pixelValues(), new int[] {p.numPatches(), images.patchDim()}),
                GRID_THW, ItemTensor.ofInts(new int[] {p.gridT(), p.gridH(), p.gridW()}, 3)));
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

    /** The most tokens one image can become under the checkpoint's own pixel budget. */
    int maxTokensPerItem() {
        int factor = images.config().factor();
        return Math.max(1, images.config().maxPixels() / (factor * factor));
    }

    private void requireModality(String modality) {
        if (!modalities().contains(modality)) {
            throw new IllegalArgumentException("this Qwen2-VL model takes " + String.join(" and ", modalities())
                    + ", not " + modality);
        }
    }
}
