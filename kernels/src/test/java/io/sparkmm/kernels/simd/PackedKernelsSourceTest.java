package io.sparkmm.kernels.simd;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The unrolled kernels are what their generator writes: nobody edited one copy of a shape by hand. */
class PackedKernelsSourceTest {

    @Test
    void committedKernelsMatchTheirGenerator() throws Exception {
        File script = new File("src/gen/packed_kernels.py");
        assertThat(script).as("the generator, run from the kernels module").exists();
        Process p = new ProcessBuilder("python3", script.getPath(), "--check").redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(output).isZero();
    }
}
