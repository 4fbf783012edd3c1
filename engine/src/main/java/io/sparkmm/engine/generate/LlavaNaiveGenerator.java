package io.sparkmm.engine.generate;

import io.sparkmm.engine.models.LlavaModel;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The oracle for multimodal generation with a {@link LlavaModel}: one request at a time, full
 * recompute at every step, no KV cache. The prompt already holds the expanded placeholders:
 * {@code imageTokensPerImage} consecutive image tokens per image, in image order. Each image is
 * encoded once per request (the encoder's output does not depend on the text), and at every step
 * the whole sequence's embeddings (text embeddings, image rows replaced) run through the decoder.
 * Sampling and stop rules are {@link NaiveGenerator}'s.
 */
public final class LlavaNaiveGenerator {

    private final LlavaModel model;
    private final NaiveGenerator text;

    public LlavaNaiveGenerator(LlavaModel model, Set<Integer> eosTokenIds) {
        this.model = model;
        this.text = new NaiveGenerator(model.languageModel(), eosTokenIds);
    }

    /**
     * @param images one float[C*S*S] (CHW, preprocessed) per image, in placeholder order
     */
    public GenerationResult generate(int[] promptIds, List<float[]> images, SamplingParams params) {
        int[] offsets = placeholderOffsets(promptIds, images.size());
        List<Tensor> embeddings = encodeAll(images);
        try {
            return text.generate(promptIds, params, ids -> lastLogits(ids, embeddings, offsets));
        } finally {
            embeddings.forEach(Tensor::close);
        }
    }

    /** Logits after the last token of {@code ids}, whose placeholders are filled with {@code images}. */
    public float[] lastLogits(int[] ids, List<float[]> images) {
        int[] offsets = placeholderOffsets(ids, images.size());
        List<Tensor> embeddings = encodeAll(images);
        try {
            return lastLogits(ids, embeddings, offsets);
        } finally {
            embeddings.forEach(Tensor::close);
        }
    }

    private float[] lastLogits(int[] ids, List<Tensor> imageEmbeddings, int[] offsets) {
        int[] positions = new int[ids.length];
        Arrays.setAll(positions, i -> i);
        try (Tensor hidden = model.embedWithImages(ids, imageEmbeddings, offsets)) {
            model.languageModel().forwardLayers(hidden, positions);
            return model.languageModel().logitsOfRow(hidden, ids.length - 1);
        }
    }

    private List<Tensor> encodeAll(List<float[]> images) {
        List<Tensor> out = new ArrayList<>(images.size());
        try {
            for (float[] image : images) {
                out.add(model.encodeImage(image));
            }
            return out;
        } catch (RuntimeException e) {
            out.forEach(Tensor::close);
            throw e;
        }
    }

    /**
     * Where each image's placeholder run starts. The image tokens of the prompt are dealt out in
     * order, {@code imageTokensPerImage} to each image (as HF's masked_scatter fills them), and each
     * image's share must be consecutive. Only the prompt is searched: a generated token equal to
     * the image token id is ordinary text, as in HF generation.
     */
    public int[] placeholderOffsets(int[] promptIds, int numImages) {
        int imageToken = model.imageTokenId();
        int per = model.imageTokensPerImage();
        int[] positions = new int[promptIds.length];
        int count = 0;
        for (int i = 0; i < promptIds.length; i++) {
            if (promptIds[i] == imageToken) {
                positions[count++] = i;
            }
        }
        if (count != numImages * per) {
            throw new IllegalArgumentException("the prompt has " + count + " image tokens (id " + imageToken
                    + ") but " + numImages + " image(s) need " + (numImages * per) + " (" + per + " each)");
        }
        int[] offsets = new int[numImages];
        for (int img = 0; img < numImages; img++) {
            int first = positions[img * per];
            int last = positions[img * per + per - 1];
            if (last - first != per - 1) {
                throw new IllegalArgumentException("the placeholder of image " + img + " is not " + per
                        + " consecutive image tokens (its tokens span positions " + first + ".." + last + ")");
            }
            offsets[img] = first;
        }
        return offsets;
    }
}
