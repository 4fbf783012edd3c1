package io.sparkmm.kernels;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the tests in a fresh JVM with the given flags, on this JVM's class path,
 * for behaviour that depends on how the JVM was started (modules, direct-memory limit).
 */
final class ChildJvm {

    private ChildJvm() {
    }

    /** The child's stdout and stderr together; fails if it does not exit 0 within 60 s. */
    static String run(Class<?> main, String... jvmFlags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmFlags));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("child JVM " + command + " did not finish");
        }
        String text = new String(output, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new AssertionError("child JVM " + command + " exited with " + process.exitValue() + ":\n" + text);
        }
        return text;
    }
}
