package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Backend;
import java.util.List;
import java.util.Set;

/** Qwen2-Audio: audio clips through a Whisper-style encoder into a Qwen2 decoder. */
public final class Qwen2AudioFamily implements ModelFamily {

    @Override
    public String name() {
        return "qwen2-audio";
    }

    @Override
    public Set<String> architectures() {
        return Set.of(Qwen2AudioConfig.ARCHITECTURE);
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of(Qwen2AudioConfig.MODEL_TYPE);
    }

    @Override
    public List<String> modalities() {
        return List.of("audio");
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        return Qwen2AudioModel.load(this, checkpoint, backend);
    }
}
