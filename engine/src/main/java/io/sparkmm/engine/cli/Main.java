package io.sparkmm.engine.cli;

import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.kernels.Backends;

import java.io.PrintStream;
import java.util.Arrays;

/** Entry point of the engine jar: {@code generate}, {@code models} and {@code tiny-checkpoint}. */
public final class Main {

    private static String usage() {
        return "usage:\n  " + GenerateCommand.USAGE + "\n"
                + "  models      lists the registered model families (architectures, modalities) and devices\n"
                + "  " + TinyCheckpointCommand.usage() + "\n"
                + "              writes a tiny random checkpoint in the Hugging Face layout";
    }

    private Main() {
    }

    public static void main(String[] args) {
        // The tokenizer library would otherwise try to reach its model hub.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command; returns the process exit code (0 ok, 1 failure, 2 usage). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            (args.length == 0 ? err : out).println(usage());
            return args.length == 0 ? 2 : 0;
        }
        try {
            switch (args[0]) {
                case "generate" -> GenerateCommand.run(args, out, err);
                case "models" -> printModels(out);
                case "tiny-checkpoint" -> {
                    try {
                        TinyCheckpointCommand.run(Arrays.copyOfRange(args, 1, args.length), out);
                    } catch (IllegalArgumentException e) {
                        throw new CliArgs.UsageException(e.getMessage());
                    }
                }
                default -> throw new CliArgs.UsageException("unknown command '" + args[0] + "'");
            }
            return 0;
        } catch (CliArgs.UsageException e) {
            err.println("error: " + e.getMessage());
            err.println(usage());
            return 2;
        } catch (Exception e) {
            err.println("error: " + describe(e));
            return 1;
        }
    }

    /** One line per family: name, architectures, modalities; then the devices and whether each is available. */
    static void printModels(PrintStream out) {
        out.println("model families:");
        for (ModelFamily f : ModelFamilies.all()) {
            out.println("  " + f.name() + "  architectures: " + String.join(", ", new java.util.TreeSet<>(f.architectures()))
                    + "  modalities: text" + (f.modalities().isEmpty() ? "" : ", " + String.join(", ", f.modalities())));
        }
        out.println("devices:");
        for (Backends.Device d : Backends.devices()) {
            out.println("  " + d.name() + (d.availability().available() ? "  available" : "  unavailable: " + d.availability().reason()));
        }
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            sb.append("\n  caused by: ").append(c.getMessage());
        }
        return sb.toString();
    }
}
