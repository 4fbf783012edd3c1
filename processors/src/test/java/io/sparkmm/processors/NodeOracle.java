package io.sparkmm.processors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code src/test/node/oracle.mjs} (transformers.js) as a subprocess. Never skips: a missing
 * node or node_modules is an error that says how to fix it.
 */
public final class NodeOracle {

    public static final Path NODE_DIR = locate();

    /** Tests run in the module directory; benchmarks may be started from the repository root. */
    private static Path locate() {
        Path inModule = Path.of("src/test/node").toAbsolutePath();
        Path fromRoot = Path.of("processors/src/test/node").toAbsolutePath();
        return java.nio.file.Files.isDirectory(inModule) ? inModule : fromRoot;
    }

    private NodeOracle() {
    }

    /** Runs {@code node oracle.mjs args...} and returns its stdout; throws AssertionError on any failure. */
    public static String run(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        return run(timeoutSeconds, java.util.Map.of(), args);
    }

    /** As {@link #run(long, String...)}, with extra environment variables for node. */
    public static String run(long timeoutSeconds, java.util.Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/@huggingface/transformers"))) {
            throw new AssertionError("node_modules of the conformance oracle are missing in " + NODE_DIR
                    + ": run `mvn test` (the processors build runs `npm ci` there when node_modules is absent)"
                    + " or `cd " + NODE_DIR + " && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts`");
        }
        List<String> command = new ArrayList<>(List.of("node", "oracle.mjs"));
        command.addAll(List.of(args));
        Path stderr = Files.createTempFile("processors-oracle", ".stderr");
        Process process;
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(NODE_DIR.toFile())
                    .redirectError(stderr.toFile());
            builder.environment().putAll(env);
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start `node` for the conformance oracle (is Node.js 18+ installed"
                    + " and on the PATH?): " + e.getMessage(), e);
        }
        byte[] stdout = process.getInputStream().readAllBytes();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("node oracle.mjs did not finish within " + timeoutSeconds + " s");
        }
        String errors = Files.readString(stderr, StandardCharsets.UTF_8);
        Files.deleteIfExists(stderr);
        if (process.exitValue() != 0) {
            throw new AssertionError("node oracle.mjs " + String.join(" ", args) + " failed with exit code "
                    + process.exitValue() + ":\n" + errors);
        }
        return new String(stdout, StandardCharsets.UTF_8);
    }
}
