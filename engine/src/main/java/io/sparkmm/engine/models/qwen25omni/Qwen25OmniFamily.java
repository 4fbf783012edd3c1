package io.sparkmm.engine.models.qwen25omni;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Backend;

import java.util.List;
import java.util.Set;

/**
 * Qwen2.5-Omni's thinker: audio, images and video (with its own audio track) into a Qwen2 decoder
 * with TMRoPE; text output only (the talker and the vocoder of a whole Omni checkpoint are not loaded).
 */
public final class Qwen25OmniFamily implements ModelFamily {

    @Override
    public String name() {
        return "qwen2.5-omni";
    }

    @Override
    public Set<String> architectures() {
        return Set.of(Qwen25OmniConfig.THINKER, Qwen25OmniConfig.OMNI, Qwen25OmniConfig.OMNI_MODEL);
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("qwen2_5_omni_thinker", "qwen2_5_omni");
    }

    @Override
    public List<String> modalities() {
        return List.of("image", "audio", "video");
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        return Qwen25OmniModel.load(this, checkpoint, backend);
    }
}
