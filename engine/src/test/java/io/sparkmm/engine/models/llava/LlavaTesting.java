package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.generate.GenerationResult;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.prompt.PlaceholderRange;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** Test glue of the LLaVA family: loading, raw pixel arrays as media inputs, and the naive oracle over them. */
public final class LlavaTesting {

    private LlavaTesting() {
    }

    public static LlavaModel load(Checkpoint ckpt, Backend backend) {
        return LlavaModel.load(new LlavaFamily(), ckpt, backend);
    }

    /** A preprocessed image (CHW floats of a square side) as a media input at {@code offset}, every position embedded. */
    public static MediaInput image(String hash, int offset, int length, float[] pixels) {
        int side = (int) Math.round(Math.sqrt(pixels.length / 3.0));
        int[] shape = side * side * 3 == pixels.length ? new int[] {3, side, side} : new int[] {pixels.length};
        return new MediaInput(ProcessedItem.of(hash, "image", LlavaProcessor.PIXEL_VALUES, new ItemTensor(pixels, shape)),
                new PlaceholderRange(offset, length));
    }

    /** The images of a prompt placed at its image-token runs, as HF's masked_scatter fills them. */
    public static List<MediaInput> images(LlavaModel m, int[] prompt, List<float[]> images) {
        int[] offsets = placeholderOffsets(m, prompt, images.size());
        List<MediaInput> out = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            out.add(image("img-" + i + "-" + Arrays.hashCode(images.get(i)), offsets[i], m.imageTokensPerImage(), images.get(i)));
        }
        return out;
    }

    public static float[] lastLogits(LlavaModel m, int[] prompt, List<float[]> images) {
        return new NaiveGenerator(m, Set.of()).lastLogits(prompt, images(m, prompt, images));
    }

    public static GenerationResult generate(LlavaModel m, Set<Integer> eos, int[] prompt, List<float[]> images,
                                            SamplingParams params) {
        return new NaiveGenerator(m, eos).generate(prompt, images(m, prompt, images), params);
    }

    /**
     * Where each image's placeholder run starts. The image tokens of the prompt are dealt out in
     * order, {@code imageTokensPerImage} to each image, and each image's share must be consecutive.
     */
    public static int[] placeholderOffsets(LlavaModel m, int[] promptIds, int numImages) {
        int imageToken = m.imageTokenId();
        int per = m.imageTokensPerImage();
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
