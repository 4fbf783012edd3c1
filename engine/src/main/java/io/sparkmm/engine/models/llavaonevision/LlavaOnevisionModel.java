package io.sparkmm.engine.models.llavaonevision;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.SafeTensor;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.llava.LlavaProjector;
import io.sparkmm.engine.models.llava.SiglipVisionTower;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.media.VideoSampling;

import java.util.Arrays;

/**
 * LlavaOnevisionForConditionalGeneration: each AnyRes patch of an image (base view, then tiles)
 * through the SigLIP tower and LLaVA's projector, the patches' features packed by
 * {@link AnyResFeatures} (unpadding, anyres_max downscale, image_newline per row; one patch and one
 * newline for an image of a multi-image prompt); each frame of a video through the same tower and
 * projector, pooled 2 x 2 by {@link VideoPooling}, one image_newline after the last frame. The rows
 * replace the placeholder tokens' embeddings in a Qwen2 {@link DecoderModel}.
 */
public final class LlavaOnevisionModel implements FamilyModel {

    private final ModelFamily family;
    private final LlavaOnevisionConfig config;
    private final Backend backend;
    private final DecoderModel languageModel;
    private final SiglipVisionTower visionTower;
    private final LlavaProjector projector;
    private final float[] newline;
    private final AnyResFeatures packer;
    private final LlavaOnevisionProcessor processor;

    private LlavaOnevisionModel(ModelFamily family, LlavaOnevisionConfig config, Backend backend,
                                DecoderModel languageModel, SiglipVisionTower visionTower, LlavaProjector projector,
                                float[] newline, LlavaOnevisionProcessor processor) {
        this.family = family;
        this.config = config;
        this.backend = backend;
        this.languageModel = languageModel;
        this.visionTower = visionTower;
        this.projector = projector;
        this.newline = newline;
        this.processor = processor;
        this.packer = new AnyResFeatures(config.pinpoints(), config.visionConfig().imageSize(),
                config.visionConfig().patchSize(), config.maxNumPatches());
    }

    static LlavaOnevisionModel load(ModelFamily family, Checkpoint ckpt, Backend backend) {
        LlavaOnevisionConfig c = LlavaOnevisionConfig.parseChecked(ckpt.configJson());
        if (!DecoderModel.ARCHITECTURES.contains(c.textConfig().architecture())) {
            throw new CheckpointException(ckpt.directory().resolve(Checkpoint.CONFIG) + ": text_config architecture "
                    + c.textConfig().architecture() + " is not one we run; supported: " + DecoderModel.ARCHITECTURES);
        }
        LlavaOnevisionNaming naming = LlavaOnevisionNaming.detect(ckpt);
        LlavaOnevisionProcessor processor = LlavaOnevisionProcessor.load(ckpt.directory(), c);
        int hidden = c.textConfig().hiddenSize();
        DecoderModel text = null;
        SiglipVisionTower vision = null;
        try {
            text = new DecoderModel(c.textConfig(), backend,
                    DecoderWeights.load(ckpt, c.textConfig(), backend, naming.text(), naming.lmHead()));
            vision = SiglipVisionTower.load(ckpt, c.visionConfig(), backend, naming.vision());
            LlavaProjector projector = LlavaProjector.load(ckpt, backend, naming.projector(),
                    c.visionConfig().hiddenSize(), hidden, c.multimodalProjectorBias(), c.projectorActivation());
            float[] newline;
            SafeTensor nl = ckpt.tensor(naming.newline()).requireShape(hidden);
            try (Tensor t = backend.weight(nl.dtype(), nl.data(), nl.shape())) {
                newline = backend.download(t);
            }
            return new LlavaOnevisionModel(family, c, backend, text, vision, projector, newline, processor);
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

    public LlavaOnevisionConfig config() {
        return config;
    }

    @Override
    public ModelFamily family() {
        return family;
    }

    @Override
    public DecoderModel languageModel() {
        return languageModel;
    }

    @Override
    public FamilyProcessor processor() {
        return processor;
    }

    @Override
    public int maxEmbeddingsPerItem() {
        // a video of the default frame count must fit; more frames than that fail their own request at admission
        long most = Math.max(config.maxImageTokens(), config.videoTokens(VideoSampling.DEFAULT_NUM_FRAMES));
        return (int) Math.min(most, languageModel.config().maxPositionEmbeddings());
    }

    @Override
    public Tensor encode(MediaInput item) {
        if (item.modality().equals("video")) {
            return encodeVideo(item);
        }
        if (!item.modality().equals("image")) {
            throw new IllegalArgumentException("this LLaVA-OneVision model takes images and videos, not " + item.modality());
        }
        ItemTensor pixels = item.tensor(LlavaOnevisionProcessor.PIXEL_VALUES);
        int[] size = item.tensor(LlavaOnevisionProcessor.IMAGE_SIZES).ints();
        int s = config.visionConfig().imageSize();
        int c = config.visionConfig().numChannels();
        int perPatch = c * s * s;
        int n = pixels.shape()[0];
        if (pixels.data().length != n * perPatch) {
            throw new IllegalArgumentException("image " + item.hash() + " has " + pixels.data().length
                    + " pixel values; this model's vision tower takes patches of " + c + " x " + s + " x " + s);
        }
        int rows = n == 1 ? config.tokensPerPatch() + 1 : packer.rows(size[0], size[1]);
        if (item.numEmbeddings() != rows) {
            throw new IllegalArgumentException("image " + item.hash() + " of " + size[1] + "x" + size[0] + " makes "
                    + rows + " features but has " + item.numEmbeddings() + " placeholder positions");
        }
        int hidden = languageModel.config().hiddenSize();
        float[] packed = packer.pack(patchFeatures(pixels.data(), n), n, hidden, size[0], size[1], newline);
        return backend.upload(packed, rows, hidden);
    }

    private Tensor encodeVideo(MediaInput item) {
        ItemTensor pixels = item.tensor(LlavaOnevisionProcessor.PIXEL_VALUES_VIDEOS);
        int s = config.visionConfig().imageSize();
        int frames = pixels.shape()[0];
        if (pixels.data().length != (long) frames * config.visionConfig().numChannels() * s * s) {
            throw new IllegalArgumentException("video " + item.hash() + " has " + pixels.data().length
                    + " pixel values; this model's vision tower takes frames of " + s + " x " + s);
        }
        long rows = config.videoTokens(frames);
        if (item.numEmbeddings() != rows) {
            throw new IllegalArgumentException("video " + item.hash() + " of " + frames + " frames makes " + rows
                    + " features but has " + item.numEmbeddings() + " placeholder positions");
        }
        int hidden = languageModel.config().hiddenSize();
        float[] pooled = VideoPooling.pool(patchFeatures(pixels.data(), frames), frames,
                config.visionConfig().gridSize(), hidden);
        float[] out = Arrays.copyOf(pooled, pooled.length + hidden);
        System.arraycopy(newline, 0, out, pooled.length, hidden);
        return backend.upload(out, (int) rows, hidden);
    }

    /** Tower then projector on each of {@code n} S x S pictures: [n, side^2, hidden] flattened. */
    private float[] patchFeatures(float[] pixels, int n) {
        int s = config.visionConfig().imageSize();
        int perPatch = config.visionConfig().numChannels() * s * s;
        int hidden = languageModel.config().hiddenSize();
        int tokens = config.tokensPerPatch();
        float[] features = new float[Math.multiplyExact(n, tokens * hidden)];
        for (int p = 0; p < n; p++) {
            float[] patch = Arrays.copyOfRange(pixels, p * perPatch, (p + 1) * perPatch);
            try (Tensor state = visionTower.hiddenState(patch, config.visionFeatureLayer());
                 Tensor projected = projector.forward(state)) {
                System.arraycopy(backend.download(projected), 0, features, p * tokens * hidden, tokens * hidden);
            }
        }
        return features;
    }

    /** Refused: an item is a variable number of anyres crops, unpadded and joined with newline rows after the tower. */
    @Override
    public io.sparkmm.engine.encoders.EncoderPort externalEncoderPort() {
        throw new UnsupportedOperationException("the " + family().name() + " family cannot take an ONNX encoder: an"
                + " image is a variable number of anyres crops whose features are unpadded and joined with newline"
                + " rows after the tower; it runs its own vision tower");
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
