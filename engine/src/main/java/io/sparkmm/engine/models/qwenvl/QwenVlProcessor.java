package io.sparkmm.engine.models.qwenvl;

import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.image.PilResample;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * Qwen-VL's image processing and prompt update. Qwen-VL ships no HF processor; its visual.py
 * (and vLLM's QwenVLProcessor) transform an image with torchvision: Resize((S, S), BICUBIC) of
 * the PIL image (Pillow's resize, aspect ratio not kept), ToTensor (/255) and Normalize with
 * OpenAI CLIP's mean and std, giving pixel_values [3, S, S], S = visual.image_size (448).
 *
 * <p>In the prompt an image is {@code <img>...</img>}; the tokenizer drops what is between the
 * tags (see {@link io.sparkmm.engine.tokenizer.QwenTiktoken}), and each {@code <img>} token
 * becomes {@code <img>} followed by n_queries (256) {@code <imgpad>} tokens, which take the
 * resampler's rows, before the prompt's own {@code </img>}: the sequence vLLM builds.
 */
final class QwenVlProcessor implements FamilyProcessor {

    static final String PIXEL_VALUES = "pixel_values";
    static final double[] MEAN = {0.48145466, 0.4578275, 0.40821073};
    static final double[] STD = {0.26862954, 0.26130258, 0.27577711};

    private final int size;
    private final ItemReplacement replacement;
    private final PromptReplacement placeholder;
    private final float[][] lut;

    QwenVlProcessor(QwenVlConfig config) {
        this.size = config.vision().imageSize();
        int n = config.vision().nQueries();
        int[] tokens = new int[1 + n];
        tokens[0] = config.imageStartId();
        Arrays.fill(tokens, 1, tokens.length, config.imagePadId());
        this.replacement = ItemReplacement.selectingToken(tokens, config.imagePadId());
        this.placeholder = new PromptReplacement("image", "<img></img>", config.imageStartId(), config.imagePadId());
        this.lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                // torchvision: to_tensor divides in float32, normalize subtracts then divides in float32
                lut[c][v] = (v / 255f - (float) MEAN[c]) / (float) STD[c];
            }
        }
    }

    @Override
    public List<String> modalities() {
        return List.of("image");
    }

    @Override
    public String fingerprint() {
        return "qwen-vl resize=" + size + " bicubic clip-mean-std";
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits) {
        requireImage(modality);
        return ProcessedItem.of(hash, modality, PIXEL_VALUES,
                new ItemTensor(pixels(MediaIO.readImage(bytes, limits)), new int[] {3, size, size}));
    }

    /** pixel_values [3, S, S] of one decoded image. */
    float[] pixels(RgbImage image) {
        byte[] rgb = PilResample.resize(image.rgb(), image.width(), image.height(), size, size, PilResample.Filter.BICUBIC);
        int plane = size * size;
        float[] out = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                out[c * plane + i] = lut[c][rgb[i * 3 + c] & 0xff];
            }
        }
        return out;
    }

    @Override
    public PromptReplacement placeholder(String modality) {
        requireImage(modality);
        return placeholder;
    }

    @Override
    public ItemReplacement replacement(ProcessedItem item) {
        requireImage(item.modality());
        return replacement;
    }

    /** Every image becomes {@code <img>} and n_queries pads, whatever its size (it is resized to S x S). */
    @Override
    public OptionalInt imageTokens(int width, int height, ProcessorKwargs kwargs) {
        return OptionalInt.of(replacement.length());
    }

    private static void requireImage(String modality) {
        if (!modality.equals("image")) {
            throw new IllegalArgumentException("this Qwen-VL model takes images, not " + modality);
        }
    }
}
