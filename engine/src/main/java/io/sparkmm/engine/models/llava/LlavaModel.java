package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.encoders.EncoderPort;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

/**
 * LlavaForConditionalGeneration: a CLIP vision tower and a projector (together "the encoder",
 * whose output replaces the image placeholder tokens' embeddings) in front of a Llama-style
 * {@link DecoderModel}. Everything after the embeddings is the text decoder's own math.
 */
public final class LlavaModel implements FamilyModel {

    private final ModelFamily family;
    private final LlavaConfig config;
    private final Backend backend;
    private final DecoderModel languageModel;
    private final ClipVisionTower visionTower;
    private final LlavaProjector projector;
    private final LlavaProcessor processor;

    private LlavaModel(ModelFamily family, LlavaConfig config, Backend backend, DecoderModel languageModel, ClipVisionTower visionTower,
                       LlavaProjector projector, LlavaProcessor processor) {
        this.family = family;
        this.config = config;
        this.backend = backend;
        this.languageModel = languageModel;
        this.visionTower = visionTower;
        this.projector = projector;
        this.processor = processor;
    }

    /** Loads a LlavaForConditionalGeneration checkpoint of any tensor-name generation ({@link LlavaNaming}) onto the backend. */
    static LlavaModel load(ModelFamily family, Checkpoint ckpt, Backend backend) {
        LlavaConfig c = LlavaConfig.parse(ckpt.configJson());
        if (!DecoderModel.ARCHITECTURES.contains(c.textConfig().architecture())) {
            throw new CheckpointException(ckpt.directory().resolve(Checkpoint.CONFIG) + ": text_config architecture "
                    + c.textConfig().architecture() + " is not one we run; supported: " + DecoderModel.ARCHITECTURES);
        }
        LlavaNaming naming = LlavaNaming.detect(ckpt);
        LlavaProcessor processor = LlavaProcessor.load(ckpt.directory(), c);
        DecoderModel text = null;
        ClipVisionTower vision = null;
        try {
            text = new DecoderModel(c.textConfig(), backend,
                    DecoderWeights.load(ckpt, c.textConfig(), backend, naming.text(), naming.lmHead()));
            vision = ClipVisionTower.load(ckpt, c.visionConfig(), backend, naming.vision());
            LlavaProjector projector = LlavaProjector.load(ckpt, backend, naming.projector(), c.projectorInputSize(),
                    c.textConfig().hiddenSize(), c.multimodalProjectorBias(), c.projectorActivation());
            return new LlavaModel(family, c, backend, text, vision, projector, processor);
        } catch (RuntimeException e) {
            if (text != null) {
                text.close();
            }
            if (vision != null) {
                vision.close();
            }
            throw e;
        }
    }

    public LlavaConfig config() {
        return config;
    }

    @Override
    public ModelFamily family() {
        return family;
    }

    @Override
    public FamilyProcessor processor() {
        return processor;
    }

    @Override
    public int maxEmbeddingsPerItem() {
        return config.imageTokensPerImage();
    }

    @Override
    public Tensor encode(MediaInput item) {
        return encodeImage(LlavaEncoderPort.pixelValues(config, item));
    }

    @Override
    public EncoderPort externalEncoderPort() {
        return new LlavaEncoderPort(config);
    }

    @Override
    public DecoderModel languageModel() {
        return languageModel;
    }

    public Backend backend() {
        return backend;
    }

    public int imageTokenId() {
        return config.imageTokenIndex();
    }

    public int imageTokensPerImage() {
        return config.imageTokensPerImage();
    }

    /**
     * The encoder: one preprocessed image (float[C*S*S], CHW, S = vision image_size) to the
     * embeddings of its placeholder tokens, [imageTokensPerImage, text hidden]. Caller owns it.
     */
    public Tensor encodeImage(float[] pixelValues) {
        try (Tensor features = visionTower.features(pixelValues, config.featureLayerIndices(),
                config.keepClassToken())) {
            return projector.forward(features);
        }
    }

    @Override
    public void close() {
        try {
            projector.close();
            visionTower.close();
        } finally {
            languageModel.close();
        }
    }
}
