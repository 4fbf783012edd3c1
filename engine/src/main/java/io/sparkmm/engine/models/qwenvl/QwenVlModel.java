package io.sparkmm.engine.models.qwenvl;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ItemTensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The original Qwen-VL ({@code QWenLMHeadModel} with a {@code visual} config): visual.py's ViT and
 * resampler (the encoder: its 256 rows replace the {@code <imgpad>} embeddings between
 * {@code <img>} and {@code </img>}) in front of the Qwen (v1) decoder, which runs as the shared
 * decoder under Qwen's tensor names ({@link QwenDecoderWeights}). Positions are ordinary 1-D rope.
 */
public final class QwenVlModel implements FamilyModel {

    private final ModelFamily family;
    private final QwenVlConfig config;
    private final DecoderModel languageModel;
    private final QwenVlVisionTower visionTower;
    private final QwenVlProcessor processor;

    private QwenVlModel(ModelFamily family, QwenVlConfig config, DecoderModel languageModel, QwenVlVisionTower visionTower) {
        this.family = family;
        this.config = config;
        this.languageModel = languageModel;
        this.visionTower = visionTower;
        this.processor = new QwenVlProcessor(config);
    }

    static QwenVlModel load(ModelFamily family, Checkpoint ckpt, Backend backend) {
        Path generation = ckpt.directory().resolve(GenerationConfig.FILE_NAME);
        boolean chatml = Files.isRegularFile(generation)
                && "chatml".equals(JsonFields.read(generation).node().path("chat_format").asText(null));
        QwenVlConfig c = QwenVlConfig.parse(ckpt.configJson(), chatml);
        DecoderModel text = new DecoderModel(c.text(), backend, QwenDecoderWeights.load(ckpt, c.text(), c.noBias(), backend));
        try {
            return new QwenVlModel(family, c, text, QwenVlVisionTower.load(ckpt, c.vision(), backend, "transformer.visual."));
        } catch (RuntimeException e) {
            text.close();
            throw e;
        }
    }

    public QwenVlConfig config() {
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
        return config.vision().nQueries();
    }

    @Override
    public Tensor encode(MediaInput item) {
        if (!item.modality().equals("image")) {
            throw new IllegalArgumentException("this Qwen-VL model takes images, not " + item.modality());
        }
        ItemTensor pixels = item.item().tensors().get(QwenVlProcessor.PIXEL_VALUES);
        int s = config.vision().imageSize();
        if (pixels == null || pixels.data().length != 3 * s * s) {
            throw new IllegalArgumentException("image " + item.hash() + " has no pixel_values of 3 x " + s + " x " + s
                    + ", the input of this model's vision tower");
        }
        if (item.numEmbeddings() != config.vision().nQueries()) {
            throw new IllegalArgumentException("image " + item.hash() + " has " + item.numEmbeddings()
                    + " placeholder positions; this model's resampler makes " + config.vision().nQueries());
        }
        return visionTower.encode(pixels.data());
    }

    /**
     * Ordinary positions, after checking the prompt the way modeling_qwen.py reads it: each image
     * sits between an {@code <img>} and the next {@code </img>}, so every item's range must start
     * at an {@code <img>} with {@code </img>} right after it, no {@code <imgpad>} may lie outside
     * an image (a token prompt with stray pads is refused, not run with text embeddings there), and
     * every {@code <img>} needs its image (a text-only prompt with a reference is refused too).
     */
    @Override
    public RequestPositions positions(int[] promptTokenIds, List<MediaInput> media) {
        boolean[] inImage = new boolean[promptTokenIds.length];
        for (MediaInput m : media) {
            int end = m.offset() + m.length();
            if (promptTokenIds[m.offset()] != config.imageStartId() || end >= promptTokenIds.length
                    || promptTokenIds[end] != config.imageEndId()) {
                throw new IllegalArgumentException("image " + m.hash() + " at prompt position " + m.offset()
                        + " is not enclosed by <img> and </img> (ids " + config.imageStartId() + ", " + config.imageEndId() + ")");
            }
            java.util.Arrays.fill(inImage, m.offset(), end, true);
        }
        int references = 0;
        for (int i = 0; i < promptTokenIds.length; i++) {
            if (promptTokenIds[i] == config.imageStartId()) {
                references++;
            }
            if (promptTokenIds[i] == config.imagePadId() && !inImage[i]) {
                throw new IllegalArgumentException("the prompt has an <imgpad> (id " + config.imagePadId() + ") at position "
                        + i + " outside every image's <img>...</img> span");
            }
        }
        // modeling_qwen.py would fetch each <img> reference itself; here images come with the request
        if (references != media.size()) {
            throw new IllegalArgumentException("the prompt has " + references + " <img></img> image reference"
                    + (references == 1 ? "" : "s") + " but " + media.size() + " image" + (media.size() == 1 ? " was" : "s were")
                    + " given; give one image per reference");
        }
        return RequestPositions.LINEAR;
    }

    /** The encoder alone, for oracles: pixel_values [3, S, S] to [n_queries, hidden]. Caller owns it. */
    public Tensor encodeImage(float[] pixelValues) {
        return visionTower.encode(pixelValues);
    }

    @Override
    public void close() {
        try {
            visionTower.close();
        } finally {
            languageModel.close();
        }
    }
}
