package io.sparkmm.engine.models.text;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** Decoder-only language models: Llama, Qwen2, Mistral (the shared decoder on its own). */
public final class TextFamily implements ModelFamily {

    @Override
    public String name() {
        return "text";
    }

    @Override
    public Set<String> architectures() {
        return DecoderModel.ARCHITECTURES;
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("llama", "qwen2", "mistral");
    }

    @Override
    public List<String> modalities() {
        return List.of();
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        ModelConfig c = ModelConfig.parse(checkpoint.configJson(), null);
        if (!DecoderModel.ARCHITECTURES.contains(c.architecture())) {
            throw new CheckpointException("architecture '" + c.architecture() + "' in "
                    + checkpoint.directory().resolve(Checkpoint.CONFIG) + " is not a decoder-only model we run; supported: "
                    + DecoderModel.ARCHITECTURES);
        }
        DecoderModel decoder = new DecoderModel(c, backend,
                DecoderWeights.load(checkpoint, c, backend, "model.", "lm_head.weight"));
        return new TextModel(this, decoder);
    }

    @Override
    public List<String> tinyCheckpointArchitectures() {
        return List.of("llama", "qwen2", "mistral");
    }

    @Override
    public Path writeTinyCheckpoint(Path dir, String arch, DType dtype, Long seed) {
        TinyCheckpoint.Spec spec = TinyCheckpoint.specFor(arch);
        if (spec == null) {
            throw new IllegalArgumentException("--arch " + arch + ": the text family writes " + tinyCheckpointArchitectures());
        }
        spec = spec.withDtype(dtype);
        return TinyCheckpoint.write(dir, seed != null ? spec.withSeed(seed) : spec);
    }
}
