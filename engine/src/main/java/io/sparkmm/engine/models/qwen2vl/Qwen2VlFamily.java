package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** Qwen2-VL and Qwen2.5-VL: dynamic-resolution images and video through a ViT with M-RoPE in the decoder. */
public final class Qwen2VlFamily implements ModelFamily {

    @Override
    public String name() {
        return "qwen2-vl";
    }

    @Override
    public Set<String> architectures() {
        return Set.of(Qwen2VlConfig.QWEN2_VL, Qwen2VlConfig.QWEN2_5_VL);
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("qwen2_vl", "qwen2_5_vl");
    }

    @Override
    public List<String> modalities() {
        return List.of("image", "video");
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        return Qwen2VlModel.load(this, checkpoint, backend);
    }

    @Override
    public List<String> tinyCheckpointArchitectures() {
        return List.of("qwen2-vl", "qwen2.5-vl");
    }

    @Override
    public Path writeTinyCheckpoint(Path dir, String arch, DType dtype, Long seed) {
        TinyQwen2VlCheckpoint.Spec spec = arch.equals("qwen2.5-vl") ? TinyQwen2VlCheckpoint.Spec.qwen25Vl()
                : TinyQwen2VlCheckpoint.Spec.qwen2Vl();
        spec = spec.withDtype(dtype);
        return TinyQwen2VlCheckpoint.write(dir, seed != null ? spec.withSeed(seed) : spec);
    }
}
