package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * The registered {@link ModelFamily}s: those of the engine jar and any on the class path (a
 * user's own family, a test's fake one). Looked up by the checkpoint's architecture.
 */
public final class ModelFamilies {

    private ModelFamilies() {
    }

    /** Every family on the class path, in a stable order (by name). */
    public static List<ModelFamily> all() {
        List<ModelFamily> out = new ArrayList<>();
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        for (ModelFamily f : ServiceLoader.load(ModelFamily.class, loader != null ? loader : ModelFamilies.class.getClassLoader())) {
            out.add(f);
        }
        if (out.isEmpty() && loader != ModelFamilies.class.getClassLoader()) {
            ServiceLoader.load(ModelFamily.class, ModelFamilies.class.getClassLoader()).forEach(out::add);
        }
        out.sort((a, b) -> a.name().compareTo(b.name()));
        return out;
    }

    /**
     * The family of a checkpoint: by {@code architectures[0]}, else (no architectures) by
     * {@code model_type}. An unknown one fails listing every supported architecture.
     */
    public static ModelFamily forCheckpoint(Checkpoint ckpt) {
        List<ModelFamily> families = all();
        String arch = ckpt.architecture();
        if (arch != null) {
            for (ModelFamily f : families) {
                if (f.architectures().contains(arch)) {
                    return f;
                }
            }
            throw new CheckpointException("architecture '" + arch + "' in " + ckpt.directory().resolve(Checkpoint.CONFIG)
                    + " is not supported; supported architectures: " + supported(families));
        }
        String type = ckpt.modelType();
        for (ModelFamily f : families) {
            if (type != null && f.modelTypes().contains(type)) {
                return f;
            }
        }
        throw new CheckpointException(ckpt.directory().resolve(Checkpoint.CONFIG) + " names no architectures and its model_type "
                + (type == null ? "is missing" : "'" + type + "' is not supported") + "; supported architectures: "
                + supported(families));
    }

    /** Loads a checkpoint with its family onto {@code backend}. */
    public static FamilyModel load(Checkpoint ckpt, io.sparkmm.kernels.Backend backend) {
        return forCheckpoint(ckpt).load(ckpt, backend);
    }

    /** The family that writes tiny checkpoints of {@code arch}, or null. */
    public static ModelFamily forTinyArchitecture(String arch) {
        for (ModelFamily f : all()) {
            if (f.tinyCheckpointArchitectures().contains(arch)) {
                return f;
            }
        }
        return null;
    }

    public static TreeSet<String> supported(List<ModelFamily> families) {
        TreeSet<String> names = new TreeSet<>();
        families.forEach(f -> names.addAll(f.architectures()));
        return names;
    }
}
