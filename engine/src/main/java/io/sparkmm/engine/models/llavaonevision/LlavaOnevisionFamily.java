package io.sparkmm.engine.models.llavaonevision;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Backend;

import java.util.List;
import java.util.Set;

/**
 * LLaVA-OneVision (images): AnyRes tiles through a SigLIP tower and projector, packed with image_newline
 * rows, before a Qwen2 decoder. Writes no tiny checkpoint: its tests use one transformers wrote.
 */
public final class LlavaOnevisionFamily implements ModelFamily {

    @Override
    public String name() {
        return "llava-onevision";
    }

    @Override
    public Set<String> architectures() {
        return Set.of(LlavaOnevisionConfig.ARCHITECTURE);
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of(LlavaOnevisionConfig.MODEL_TYPE);
    }

    @Override
    public List<String> modalities() {
        return List.of("image");
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        return LlavaOnevisionModel.load(this, checkpoint, backend);
    }
}
