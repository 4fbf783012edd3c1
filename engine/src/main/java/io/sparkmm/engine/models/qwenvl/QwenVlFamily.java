package io.sparkmm.engine.models.qwenvl;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** The original Qwen-VL (and Qwen-VL-Chat): a 448 px ViT and a 256-query resampler before the Qwen (v1) decoder. */
public final class QwenVlFamily implements ModelFamily {

    @Override
    public String name() {
        return "qwen-vl";
    }

    @Override
    public Set<String> architectures() {
        return Set.of(QwenVlConfig.ARCHITECTURE);
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of(QwenVlConfig.MODEL_TYPE);
    }

    @Override
    public List<String> modalities() {
        return List.of("image");
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        return QwenVlModel.load(this, checkpoint, backend);
    }

    @Override
    public List<String> tinyCheckpointArchitectures() {
        return List.of("qwen-vl");
    }

    @Override
    public Path writeTinyCheckpoint(Path dir, String arch, DType dtype, Long seed) {
        TinyQwenVlCheckpoint.Spec spec = TinyQwenVlCheckpoint.Spec.tiny().withDtype(dtype);
        return TinyQwenVlCheckpoint.write(dir, seed != null ? spec.withSeed(seed) : spec);
    }
}
