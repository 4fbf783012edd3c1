package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.encoders.EncoderFeed;
import io.sparkmm.engine.encoders.EncoderPort;
import io.sparkmm.engine.encoders.EncoderSignature;
import io.sparkmm.engine.encoders.EncoderTensor;
import io.sparkmm.processors.cache.ItemTensor;

import java.util.Arrays;
import java.util.List;

/**
 * LLaVA's encoder as a graph from outside the checkpoint: {@code pixel_values} float[1, C, S, S] (the
 * processor's output) to {@code image_features} float[1, N, text hidden], the projector's output
 * (N = image tokens per image), as transformers' {@code get_image_features} computes it. A batch dim
 * left free is fine; the engine feeds one image at a time.
 */
record LlavaEncoderPort(LlavaConfig config) implements EncoderPort {

    static final String OUTPUT = "image_features";

    @Override
    public EncoderSignature signature() {
        int s = config.visionConfig().imageSize();
        return new EncoderSignature("llava", "image",
                List.of(new EncoderTensor(LlavaProcessor.PIXEL_VALUES, EncoderTensor.Kind.FLOAT,
                        new long[] {1, config.visionConfig().numChannels(), s, s})),
                new EncoderTensor(OUTPUT, EncoderTensor.Kind.FLOAT,
                        new long[] {1, config.imageTokensPerImage(), config.textConfig().hiddenSize()}),
                "the vision tower up to vision_feature_layer " + Arrays.toString(config.featureLayerIndices())
                        + (config.keepClassToken() ? " with" : " without") + " the CLS token, then the multi-modal"
                        + " projector");
    }

    @Override
    public List<EncoderFeed> feeds(MediaInput item) {
        float[] pixels = pixelValues(config, item);
        int s = config.visionConfig().imageSize();
        return List.of(EncoderFeed.ofFloats(LlavaProcessor.PIXEL_VALUES, pixels, 1,
                config.visionConfig().numChannels(), s, s));
    }

    @Override
    public float[] embeddings(MediaInput item, float[] data, long[] shape) {
        long[] want = {1, config.imageTokensPerImage(), hiddenSize()};
        if (!Arrays.equals(shape, want)) {
            throw new IllegalArgumentException("the image encoder gave " + EncoderTensor.shape(shape) + " for image "
                    + item.hash() + "; the language model takes " + EncoderTensor.shape(want));
        }
        return data;
    }

    @Override
    public int hiddenSize() {
        return config.textConfig().hiddenSize();
    }

    /** The item's pixels, after checking it is an image of this model's size with the right placeholder count. */
    static float[] pixelValues(LlavaConfig config, MediaInput item) {
        if (!item.modality().equals("image")) {
            throw new IllegalArgumentException("this LLaVA model takes images, not " + item.modality());
        }
        ItemTensor pixels = item.tensor(LlavaProcessor.PIXEL_VALUES);
        int s = config.visionConfig().imageSize();
        int c = config.visionConfig().numChannels();
        if (pixels.data().length != c * s * s) {
            throw new IllegalArgumentException("image " + item.hash() + " has " + pixels.data().length
                    + " pixel values; this model's vision tower takes " + c + " x " + s + " x " + s);
        }
        if (item.numEmbeddings() != config.imageTokensPerImage()) {
            throw new IllegalArgumentException("image " + item.hash() + " has " + item.numEmbeddings()
                    + " placeholder positions; this model needs " + config.imageTokensPerImage());
        }
        return pixels.data();
    }
}
