package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Everything one checkpoint architecture needs, registered through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.sparkmm.engine.models.ModelFamily}) and chosen by config.json's
 * {@code architectures[0]}, with {@code model_type} as the fallback (vLLM's model registry plus the
 * processor registered on each model class). The engine, scheduler, runner and connector never
 * name a family; adding one is one package, one services line, its oracle and its tests.
 */
public interface ModelFamily {

    /** A short name for logs and the {@code models} command, e.g. "llava". */
    String name();

    /** HF architectures this family loads (config.json {@code architectures[0]}). */
    Set<String> architectures();

    /** HF {@code model_type}s that select this family when config.json names no architecture. */
    Set<String> modelTypes();

    /** Input modalities besides text, e.g. ["image"]; empty for a text-only family. */
    List<String> modalities();

    /**
     * Reads the checkpoint's config (both HF on-disk generations) and weights onto {@code backend}.
     * Every error names the file and key or tensor at fault.
     */
    FamilyModel load(Checkpoint checkpoint, Backend backend);

    /** The {@code --arch} words of the {@code tiny-checkpoint} command this family writes; none by default. */
    default List<String> tinyCheckpointArchitectures() {
        return List.of();
    }

    /**
     * Writes a tiny random checkpoint of {@code arch} (one of {@link #tinyCheckpointArchitectures()})
     * in the real HF layout; a null seed keeps the family's default one.
     */
    default Path writeTinyCheckpoint(Path dir, String arch, DType dtype, Long seed) {
        throw new UnsupportedOperationException("family " + name() + " writes no tiny checkpoint");
    }
}
