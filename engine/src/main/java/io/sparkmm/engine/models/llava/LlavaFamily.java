package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** LLaVA (1.5 and its descendants that keep one fixed-size image): a CLIP tower and projector before the decoder. */
public final class LlavaFamily implements ModelFamily {

    @Override
    public String name() {
        return "llava";
    }

    @Override
    public Set<String> architectures() {
        return Set.of(LlavaConfig.ARCHITECTURE);
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of(LlavaConfig.MODEL_TYPE);
    }

    @Override
    public List<String> modalities() {
        return List.of("image");
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        return LlavaModel.load(this, checkpoint, backend);
    }

    @Override
    public List<String> tinyCheckpointArchitectures() {
        return List.of("llava");
    }

    @Override
    public Path writeTinyCheckpoint(Path dir, String arch, DType dtype, Long seed) {
        TinyLlavaCheckpoint.Spec spec = TinyLlavaCheckpoint.Spec.llama();
        TinyCheckpoint.Spec text = spec.text().withDtype(dtype);
        return TinyLlavaCheckpoint.write(dir, spec.withText(seed != null ? text.withSeed(seed) : text));
    }
}
