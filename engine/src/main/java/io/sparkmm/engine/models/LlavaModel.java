package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.LlavaConfig;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

import java.util.List;

/**
 * LlavaForConditionalGeneration: a CLIP vision tower and a projector (together "the encoder",
 * whose output replaces the image placeholder tokens' embeddings) in front of a Llama-style
 * {@link DecoderModel}. Everything after the embeddings is the text decoder's own math.
 */
public final class LlavaModel implements AutoCloseable {

    /**
     * Where each part's weights live. transformers &gt;= 4.52 nests the decoder body as
     * {@code model.language_model.*}; older checkpoints (most on the Hub) say
     * {@code language_model.model.*}. Both are in circulation, so both load.
     */
    private record Naming(String text, String lmHead, String vision, String projector) {
        static final Naming NEW = new Naming("model.language_model.", "lm_head.weight", "model.vision_tower.",
                "model.multi_modal_projector.");
        static final Naming OLD = new Naming("language_model.model.", "language_model.lm_head.weight",
                "vision_tower.", "multi_modal_projector.");

        static Naming detect(Checkpoint ckpt) {
            for (Naming n : List.of(NEW, OLD)) {
                if (ckpt.has(n.text + "embed_tokens.weight")) {
                    return n;
                }
            }
            throw new CheckpointException("checkpoint " + ckpt.directory() + " is a " + LlavaConfig.ARCHITECTURE
                    + " but has neither " + NEW.text + "embed_tokens.weight (transformers >= 4.52 naming) nor "
                    + OLD.text + "embed_tokens.weight (older naming)");
        }
    }

    private final LlavaConfig config;
    private final Backend backend;
    private final DecoderModel languageModel;
    private final ClipVisionTower visionTower;
    private final LlavaProjector projector;

    private LlavaModel(LlavaConfig config, Backend backend, DecoderModel languageModel, ClipVisionTower visionTower,
                       LlavaProjector projector) {
        this.config = config;
        this.backend = backend;
        this.languageModel = languageModel;
        this.visionTower = visionTower;
        this.projector = projector;
    }

    /** Loads a LlavaForConditionalGeneration checkpoint of either naming generation onto the backend. */
    public static LlavaModel load(Checkpoint ckpt, Backend backend) {
        LlavaConfig c = ckpt.llavaConfig();
        if (c == null) {
            throw new CheckpointException(ckpt.directory().resolve(Checkpoint.CONFIG) + " describes a "
                    + ckpt.architecture() + ", not a " + LlavaConfig.ARCHITECTURE);
        }
        if (!DecoderModel.ARCHITECTURES.contains(c.textConfig().architecture())) {
            throw new CheckpointException(ckpt.directory().resolve(Checkpoint.CONFIG) + ": text_config architecture "
                    + c.textConfig().architecture() + " is not one we run; supported: " + DecoderModel.ARCHITECTURES);
        }
        Naming naming = Naming.detect(ckpt);
        DecoderModel text = null;
        ClipVisionTower vision = null;
        try {
            text = new DecoderModel(c.textConfig(), backend,
                    DecoderWeights.load(ckpt, c.textConfig(), backend, naming.text, naming.lmHead));
            vision = ClipVisionTower.load(ckpt, c.visionConfig(), backend, naming.vision);
            LlavaProjector projector = LlavaProjector.load(ckpt, backend, naming.projector, c.projectorInputSize(),
                    c.textConfig().hiddenSize(), c.multimodalProjectorBias(), c.projectorActivation());
            return new LlavaModel(c, backend, text, vision, projector);
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

    /**
     * The decoder's input embeddings [ids.length, text hidden]: text embeddings, with rows
     * [imageOffsets[i], imageOffsets[i] + rows of image i) replaced by imageEmbeddings[i]. The
     * embedding looked up for a placeholder id is discarded, so an image token id outside the text
     * vocabulary is allowed (it is looked up as id 0). Caller owns the result.
     */
    public Tensor embedWithImages(int[] ids, List<Tensor> imageEmbeddings, int[] imageOffsets) {
        if (imageEmbeddings.size() != imageOffsets.length) {
            throw new IllegalArgumentException(imageEmbeddings.size() + " image embeddings but "
                    + imageOffsets.length + " offsets");
        }
        int hidden = languageModel.config().hiddenSize();
        boolean[] covered = new boolean[ids.length];
        for (int i = 0; i < imageOffsets.length; i++) {
            Tensor e = imageEmbeddings.get(i);
            int off = imageOffsets[i];
            if (e.cols() != hidden) {
                throw new IllegalArgumentException("image " + i + " embeddings have " + e.cols()
                        + " columns; the text model's hidden size is " + hidden);
            }
            if (off < 0 || off + e.rows() > ids.length) {
                throw new IllegalArgumentException("image " + i + " at offset " + off + " with " + e.rows()
                        + " rows does not fit a sequence of " + ids.length + " tokens");
            }
            for (int r = off; r < off + e.rows(); r++) {
                if (covered[r]) {
                    throw new IllegalArgumentException("image " + i + " overlaps another image at position " + r);
                }
                covered[r] = true;
            }
        }
        int vocab = languageModel.config().vocabSize();
        int[] lookup = ids.clone();
        for (int r = 0; r < lookup.length; r++) {
            if (covered[r] && lookup[r] >= vocab) {
                lookup[r] = 0;
            }
        }
        Tensor out = languageModel.embed(lookup);
        for (int i = 0; i < imageOffsets.length; i++) {
            Tensor e = imageEmbeddings.get(i);
            backend.copyRows(e, 0, out, imageOffsets[i], e.rows());
        }
        return out;
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
