package io.sparkmm.engine.cli;

import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code tiny-checkpoint --out DIR [--arch A] [--dtype f32|bf16|f16] [--seed N]}: a tiny random
 * checkpoint in the real HF layout, written by the family that owns {@code A}.
 */
public final class TinyCheckpointCommand {

    /** The {@code --arch} when none is given (the text family's Llama). */
    static final String DEFAULT_ARCH = "llama";

    private TinyCheckpointCommand() {
    }

    public static void main(String[] args) {
        try {
            run(args, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("tiny-checkpoint: " + e.getMessage());
            System.err.println("usage: " + usage());
            System.exit(2);
        }
    }

    static String usage() {
        return "tiny-checkpoint --out DIR [--arch " + String.join("|", architectures()) + "] [--dtype f32|bf16|f16] [--seed N]";
    }

    static List<String> architectures() {
        List<String> archs = new ArrayList<>();
        for (ModelFamily f : ModelFamilies.all()) {
            archs.addAll(f.tinyCheckpointArchitectures());
        }
        return archs;
    }

    /** Parses the options and writes; throws IllegalArgumentException naming a bad option. */
    public static Path run(String[] args, java.io.PrintStream log) {
        Path out = null;
        String arch = DEFAULT_ARCH;
        String dtype = "f32";
        Long seed = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value after " + a);
            }
            String v = args[++i];
            switch (a) {
                case "--out" -> out = Path.of(v);
                case "--arch" -> arch = v.toLowerCase(Locale.ROOT);
                case "--dtype" -> dtype = v.toLowerCase(Locale.ROOT);
                case "--seed" -> {
                    try {
                        seed = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--seed " + v + ": expected an integer");
                    }
                }
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (out == null) {
            throw new IllegalArgumentException("--out DIR is required");
        }
        DType type = switch (dtype) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> throw new IllegalArgumentException("--dtype " + dtype + ": expected f32, bf16 or f16");
        };
        ModelFamily family = ModelFamilies.forTinyArchitecture(arch);
        if (family == null) {
            throw new IllegalArgumentException("--arch " + arch + ": expected one of " + architectures());
        }
        Path written = family.writeTinyCheckpoint(out, arch, type, seed);
        log.println("wrote a tiny random " + arch + " checkpoint (" + dtype + (seed != null ? ", seed " + seed : "")
                + ", family " + family.name() + ") to " + written.toAbsolutePath());
        return written;
    }
}
