package io.sparkmm.engine.models.llavaonevision;

import io.sparkmm.engine.models.ProcessorSettings;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.engine.models.FamilyProcessor;
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
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * LlavaOnevisionProcessor's behaviour for images: AnyRes tiling into {@code pixel_values
 * [numPatches, 3, S, S]} with the original {@code image_sizes} (the token count and the model's
 * unpadding need it), and each {@code <image>} expanded to {@link LlavaOnevisionTokenCount#imageTokens}
 * image tokens, every one of them embedded.
 *
 * <p>Only prompts with one image are taken: HF processes each image of a prompt with several of them
 * differently (one padded square patch, side^2 + 1 tokens), which this processor does not do yet, so
 * such prompts are refused rather than answered from other features than HF's.
 */
final class LlavaOnevisionProcessor implements FamilyProcessor {

    static final String PIXEL_VALUES = "pixel_values";
    static final String IMAGE_SIZES = "image_sizes";

    private final LlavaOnevisionImageProcessor images;
    private final LlavaOnevisionTokenCount count;
    private final String fingerprint;
    private final PromptReplacement placeholder;

    private LlavaOnevisionProcessor(LlavaOnevisionImageProcessor images, LlavaOnevisionTokenCount count,
                                    String fingerprint, PromptReplacement placeholder) {
        this.images = images;
        this.count = count;
        this.fingerprint = fingerprint;
        this.placeholder = placeholder;
    }

    /**
     * Image settings from {@code preprocessor_config.json} (transformers 4 and the Hub), else the
     * {@code image_processor} entry of {@code processor_config.json} (transformers 5). The token count
     * follows the model config (tower grid, anyres_max_N); a processor_config.json that says otherwise
     * would make HF's own model fail, so it is refused here rather than followed.
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
        if (processor != null) {
            requireSame(proc, processor, "num_image_tokens", config.tokensPerPatch());
            requireSame(proc, processor, "vision_aspect_ratio", "anyres_max_" + config.maxNumPatches());
            requireSame(proc, processor, "vision_feature_select_strategy", "full");
        }
        LlavaOnevisionTokenCount count = new LlavaOnevisionTokenCount(config.tokensPerPatch(), config.maxNumPatches(),
                false, config.pinpoints(), tile, tile);
        int id = config.imageTokenIndex();
        return new LlavaOnevisionProcessor(new LlavaOnevisionImageProcessor(image), count,
                settings + "|" + config.maxNumPatches(), new PromptReplacement("image", "<image>", id, id));
    }

    private static void requireSame(Path file, JsonNode processor, String key, Object expected) {
        JsonNode v = processor.get(key);
        if (v != null && !v.isNull() && !v.asText().equals(String.valueOf(expected))) {
            throw new IllegalArgumentException(file + ": " + key + " is " + v + " but config.json implies " + expected);
        }
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
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits) {
        requireImage(modality);
        RgbImage image = MediaIO.readImage(bytes, limits);
        LlavaOnevisionPixels p = images.process(image);
        return new ProcessedItem(hash, modality, Map.of(
                PIXEL_VALUES, new ItemTensor(p.pixelValues(), new int[] {p.numPatches(), 3, p.height(), p.width()}),
                IMAGE_SIZES, ItemTensor.ofInts(new int[] {p.imageHeight(), p.imageWidth()}, 2)));
    }

    @Override
    public void checkItemCounts(Map<String, Integer> counts) {
        int images = counts.getOrDefault("image", 0);
        if (images > 1) {
            throw new IllegalArgumentException("this LLaVA-OneVision model takes one image a prompt, got " + images
                    + ": transformers turns each image of a multi-image prompt into one padded square patch, which"
                    + " sparkmm does not do yet");
        }
    }

    @Override
    public PromptReplacement placeholder(String modality) {
        requireImage(modality);
        return placeholder;
    }

    @Override
    public ItemReplacement replacement(ProcessedItem item) {
        requireImage(item.modality());
        int[] size = item.tensors().get(IMAGE_SIZES).ints();
        return ItemReplacement.repeat(placeholder.featureTokenId(), count.imageTokens(size[0], size[1]));
    }

    @Override
    public OptionalInt imageTokens(int width, int height, ProcessorKwargs kwargs) {
        return OptionalInt.of(count.imageTokens(height, width));
    }

    private static void requireImage(String modality) {
        if (!modality.equals("image")) {
            throw new IllegalArgumentException("this LLaVA-OneVision model takes images, not " + modality);
        }
    }
}
