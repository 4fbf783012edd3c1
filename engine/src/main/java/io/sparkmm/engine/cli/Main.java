package io.sparkmm.engine.cli;

import io.sparkmm.engine.checkpoint.TinyCheckpoint;

import java.io.PrintStream;
import java.util.Arrays;

/** Entry point of the engine jar: {@code generate} and {@code tiny-checkpoint}. */
public final class Main {

    private static final String USAGE = "usage:\n  " + GenerateCommand.USAGE + "\n"
            + "  tiny-checkpoint --out DIR [--arch llama|qwen2|mistral|llava] [--dtype f32|bf16|f16] [--seed N]\n"
            + "              writes a tiny random checkpoint in the Hugging Face layout";

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
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        try {
            switch (args[0]) {
                case "generate" -> GenerateCommand.run(args, out, err);
                case "tiny-checkpoint" -> TinyCheckpoint.run(Arrays.copyOfRange(args, 1, args.length));
                default -> throw new CliArgs.UsageException("unknown command '" + args[0] + "'");
            }
            return 0;
        } catch (CliArgs.UsageException e) {
            err.println("error: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (Exception e) {
            err.println("error: " + describe(e));
            return 1;
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
