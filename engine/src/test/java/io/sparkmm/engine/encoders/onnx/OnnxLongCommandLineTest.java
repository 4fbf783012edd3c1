package io.sparkmm.engine.encoders.onnx;

import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ONNX Runtime 1.29's environment set-up overflowed the launcher main thread's stack once the
 * command line passed ~4 KB (a Spark executor's class path does): the JVM died with a bare SIGSEGV.
 * A child JVM with a 16 KB command line must open and run an ONNX encoder from its main thread.
 */
class OnnxLongCommandLineTest {

    @Test
    void anEncoderRunsInAJvmWithALongCommandLine() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Dsparkmm.test.padding=" + "x".repeat(16_000), "-Xmx512m",
                Child.class.getName());
        // the class path through the environment, so only the padding makes the command line long
        pb.environment().put("CLASSPATH", System.getProperty("java.class.path"));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("encoded 16 rows with ONNX Runtime 1.29.0");
    }

    /** Opens the tiny LLaVA with its ONNX encoder and encodes one image, all on the main thread. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Path ckpt = OnnxEncoderOracleTest.LLAVA.resolve("llava-llama-default-bf16");
            try (Backend b = Backends.open("cpu-reference", 1);
                 LoadedModel m = LoadedModel.open(ckpt, b, OnnxEncoderOracleTest.ONNX.resolve("llava-llama-default-bf16.onnx"))) {
                var req = new io.sparkmm.engine.multimodal.MultimodalProcessor(m,
                        new io.sparkmm.processors.cache.ProcessorCache(0), io.sparkmm.processors.media.MediaLimits.defaults())
                        .build("r", PromptInput.text("<image>", false, List.of(io.sparkmm.processors.media.MediaSource
                                .ofPath(OnnxEncoderOracleTest.IMAGES.resolve("square-32x32.png").toString()))),
                                io.sparkmm.engine.sampling.SamplingParams.greedy(1));
                try (var t = m.model().encode(req.media().get(0))) {
                    System.out.println("encoded " + t.rows() + " rows with ONNX Runtime " + OnnxMediaEncoder.runtimeVersion());
                }
            }
            System.out.flush();
        }
    }
}
