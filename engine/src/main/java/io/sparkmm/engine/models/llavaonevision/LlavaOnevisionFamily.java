package io.sparkmm.engine.models.llavaonevision;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * LLaVA-OneVision: images (AnyRes tiles, or one square patch each in a multi-image prompt) and videos
 * (frames pooled 2 x 2) through a SigLIP tower and projector, with image_newline rows, before a Qwen2
 * decoder. Its tests use a checkpoint transformers wrote and ones {@link TinyLlavaOnevisionCheckpoint} writes.
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
        return List.of("image", "video");
    }

    @Override
    public List<String> tinyCheckpointArchitectures() {
        return List.of("llava-onevision");
    }

    @Override
    public Path writeTinyCheckpoint(Path dir, String arch, DType dtype, Long seed) {
        TinyLlavaOnevisionCheckpoint.Spec spec = TinyLlavaOnevisionCheckpoint.Spec.defaults();
        TinyCheckpoint.Spec text = spec.text().withDtype(dtype);
        return TinyLlavaOnevisionCheckpoint.write(dir, spec.withText(seed != null ? text.withSeed(seed) : text));
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        return LlavaOnevisionModel.load(this, checkpoint, backend);
    }
}
