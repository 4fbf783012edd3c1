package io.sparkmm.engine.encoders;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.kernels.Tensor;

import java.util.List;

/**
 * A family's model whose media encoder is another one (an ONNX file): the language model, processor
 * and positions are the family's own, {@link #encode} goes to the given encoder. Its result is an
 * ordinary encoder result, so the engine's encoder cache, budget and prefix hashing are unchanged.
 */
public final class ExternalEncoderModel implements FamilyModel {

    private final FamilyModel base;
    private final MediaEncoder encoder;

    /** Takes ownership of both: closing this closes the encoder, then the base model. */
    public ExternalEncoderModel(FamilyModel base, MediaEncoder encoder) {
        this.base = base;
        this.encoder = encoder;
    }

    /** The encoder that runs the media. */
    public MediaEncoder encoder() {
        return encoder;
    }

    /** The family's own model (its native encoder included). */
    public FamilyModel base() {
        return base;
    }

    @Override
    public ModelFamily family() {
        return base.family();
    }

    @Override
    public DecoderModel languageModel() {
        return base.languageModel();
    }

    @Override
    public FamilyProcessor processor() {
        return base.processor();
    }

    @Override
    public Tensor encode(MediaInput item) {
        return encoder.encode(item);
    }

    @Override
    public int maxEmbeddingsPerItem() {
        return base.maxEmbeddingsPerItem();
    }

    @Override
    public int[] ropeSections() {
        return base.ropeSections();
    }

    @Override
    public RequestPositions positions(int[] promptTokenIds, List<MediaInput> media) {
        return base.positions(promptTokenIds, media);
    }

    @Override
    public EncoderPort externalEncoderPort() {
        return base.externalEncoderPort();
    }

    @Override
    public void close() {
        try {
            encoder.close();
        } finally {
            base.close();
        }
    }
}
