package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.models.ProcessorSettings;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.image.ClipImageProcessor;
import io.sparkmm.processors.image.ClipImageProcessorConfig;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * LlavaProcessor's behaviour: CLIP resize, crop, rescale and normalize of each image into
 * {@code pixel_values [3, S, S]}, and {@code <image>} expanded to a fixed number of image tokens
 * (patches, plus the class token under the "full" strategy), every one of them embedded.
 */
final class LlavaProcessor implements FamilyProcessor {

    static final String PIXEL_VALUES = "pixel_values";

    private final ClipImageProcessor images;
    private final String fingerprint;
    private final PromptReplacement placeholder;
    private final int tokensPerImage;

    private LlavaProcessor(ClipImageProcessor images, String fingerprint, PromptReplacement placeholder, int tokensPerImage) {
        this.images = images;
        this.fingerprint = fingerprint;
        this.placeholder = placeholder;
        this.tokensPerImage = tokensPerImage;
    }

    /**
     * The image processor's settings come from {@code preprocessor_config.json}, where transformers
     * 4.x saves them, else from the {@code image_processor} entry of {@code processor_config.json},
     * where 5.x saves them (it writes no preprocessor_config.json for a processor).
     */
    static LlavaProcessor load(Path dir, LlavaConfig config) {
        ProcessorSettings found = ProcessorSettings.read(dir, "image_processor", "multimodal");
        JsonNode settings = found.node();
        String source = found.source();
        int image = config.imageTokenIndex();
        return new LlavaProcessor(new ClipImageProcessor(ClipImageProcessorConfig.fromJson(settings, source)),
                settings.toString(), new PromptReplacement("image", "<image>", image, image),
                config.imageTokensPerImage());
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
        float[] pixels = images.process(image);
        return ProcessedItem.of(hash, modality, PIXEL_VALUES,
                new ItemTensor(pixels, new int[] {3, images.outputHeight(), images.outputWidth()}));
    }

    @Override
    public PromptReplacement placeholder(String modality) {
        requireImage(modality);
        return placeholder;
    }

    @Override
    public ItemReplacement replacement(ProcessedItem item) {
        requireImage(item.modality());
        return ItemReplacement.repeat(placeholder.featureTokenId(), tokensPerImage);
    }

    /** Every image becomes the same count whatever its size: CLIP resizes and crops it to the tower's square. */
    @Override
    public OptionalInt imageTokens(int width, int height, ProcessorKwargs kwargs) {
        return OptionalInt.of(tokensPerImage);
    }

    private static void requireImage(String modality) {
        if (!modality.equals("image")) {
            throw new IllegalArgumentException("this LLaVA model takes images, not " + modality);
        }
    }
}
