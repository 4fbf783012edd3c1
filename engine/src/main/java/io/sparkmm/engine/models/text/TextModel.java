package io.sparkmm.engine.models.text;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Tensor;

/** A text-only model: the decoder, no encoder, ordinary positions. */
final class TextModel implements FamilyModel {

    private final ModelFamily family;
    private final DecoderModel decoder;

    TextModel(ModelFamily family, DecoderModel decoder) {
        this.family = family;
        this.decoder = decoder;
    }

    @Override
    public ModelFamily family() {
        return family;
    }

    @Override
    public DecoderModel languageModel() {
        return decoder;
    }

    @Override
    public FamilyProcessor processor() {
        return FamilyProcessor.TEXT_ONLY;
    }

    @Override
    public Tensor encode(MediaInput item) {
        throw new IllegalArgumentException("this model is text-only; it cannot take " + item.modality());
    }

    @Override
    public int maxEmbeddingsPerItem() {
        return 0;
    }

    @Override
    public void close() {
        decoder.close();
    }
}
