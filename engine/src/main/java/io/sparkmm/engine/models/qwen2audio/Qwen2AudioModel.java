package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.encoders.EncoderPort;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

/**
 * Qwen2AudioForConditionalGeneration: the Whisper-style audio tower and its Linear projector (the
 * encoder: its rows replace the {@code <|AUDIO|>} embeddings) in front of a Qwen2 decoder with
 * ordinary 1-D rope positions.
 */
public final class Qwen2AudioModel implements FamilyModel {

    private final ModelFamily family;
    private final Qwen2AudioConfig config;
    private final DecoderModel languageModel;
    private final Qwen2AudioEncoder encoder;
    private final Qwen2AudioProjector projector;
    private final Qwen2AudioProcessor processor;

    private Qwen2AudioModel(ModelFamily family, Qwen2AudioConfig config, DecoderModel languageModel,
                            Qwen2AudioEncoder encoder, Qwen2AudioProjector projector, Qwen2AudioProcessor processor) {
        this.family = family;
        this.config = config;
        this.languageModel = languageModel;
        this.encoder = encoder;
        this.projector = projector;
        this.processor = processor;
    }

    static Qwen2AudioModel load(ModelFamily family, Checkpoint ckpt, Backend backend) {
        Qwen2AudioConfig c = Qwen2AudioConfig.parse(ckpt.configJson());
        Qwen2AudioNaming naming = Qwen2AudioNaming.detect(ckpt, c.text().tieWordEmbeddings());
        Qwen2AudioProcessor processor = Qwen2AudioProcessor.load(ckpt.directory(), c);
        DecoderModel text = new DecoderModel(c.text(), backend,
                DecoderWeights.load(ckpt, c.text(), backend, naming.text(), naming.lmHead()));
        Qwen2AudioEncoder encoder = null;
        try {
            // Each part's loader closes what it loaded when it fails part way.
            encoder = Qwen2AudioEncoder.load(new WeightLoader(ckpt, backend), c.audio(), naming.audio());
            Qwen2AudioProjector projector = Qwen2AudioProjector.load(new WeightLoader(ckpt, backend),
                    naming.projector(), c.audio().dModel(), c.text().hiddenSize());
            return new Qwen2AudioModel(family, c, text, encoder, projector, processor);
        } catch (RuntimeException e) {
            if (encoder != null) {
                encoder.close();
            }
            text.close();
            throw e;
        }
    }

    public Qwen2AudioConfig config() {
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

    /** A 30 s clip: the feature extractor truncates anything longer. */
    @Override
    public int maxEmbeddingsPerItem() {
        return Qwen2AudioLengths.audioTokens(config.audio().inputFrames());
    }

    @Override
    public Tensor encode(MediaInput item) {
        int valid = validFrames(config, item);
        try (Tensor audio = encoder.encode(item.tensor(Qwen2AudioProcessor.INPUT_FEATURES).data(), valid)) {
            return projector.forward(audio);
        }
    }

    @Override
    public EncoderPort externalEncoderPort() {
        return new Qwen2AudioEncoderPort(config);
    }

    /** The clip's valid mel frames, after checking it is audio whose placeholder count fits them. */
    static int validFrames(Qwen2AudioConfig config, MediaInput item) {
        if (!item.modality().equals("audio")) {
            throw new IllegalArgumentException("this Qwen2-Audio model takes audio, not " + item.modality());
        }
        int valid = item.tensor(Qwen2AudioProcessor.VALID_FRAMES).ints()[0];
        int tokens = Qwen2AudioLengths.audioTokens(valid);
        if (item.numEmbeddings() != tokens) {
            throw new IllegalArgumentException("audio " + item.hash() + " of " + valid + " mel frames makes " + tokens
                    + " tokens but has " + item.numEmbeddings() + " placeholder positions");
        }
        return valid;
    }

    @Override
    public void close() {
        try {
            encoder.close();
            projector.close();
        } finally {
            languageModel.close();
        }
    }
}
