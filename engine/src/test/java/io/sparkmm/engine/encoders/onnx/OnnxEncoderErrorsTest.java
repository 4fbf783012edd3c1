package io.sparkmm.engine.encoders.onnx;

import io.sparkmm.engine.LoadedModel;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A bad ONNX encoder fails when the model opens, with a message naming the file and what does not
 * fit (both shapes, both name lists), and leaves nothing open behind it; a good one is shared.
 */
class OnnxEncoderErrorsTest {

    static final Path LLAVA = OnnxEncoderOracleTest.LLAVA.resolve("llava-llama-default-bf16");
    static final Path AUDIO = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny");
    static final Path ONNX = OnnxEncoderOracleTest.ONNX;
    static Backend backend;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu", 1);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    private static void failsNaming(Path ckpt, Path onnx, String... parts) {
        int before = OnnxSessions.open();
        assertThatThrownBy(() -> LoadedModel.open(ckpt, backend, onnx).close())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(onnx.getFileName().toString())
                .hasMessageContainingAll(parts);
        assertThat(OnnxSessions.open()).as("sessions left open").isEqualTo(before);
    }

    @Test
    void aMissingFileIsNamed() {
        failsNaming(LLAVA, tmp.resolve("nowhere.onnx"), "does not exist");
    }

    @Test
    void aCorruptFileIsNamed() throws Exception {
        Path bad = tmp.resolve("corrupt.onnx");
        Files.write(bad, new byte[] {0x08, 0x07, 0x12, 0x7f, 0x33, 0x01, 0x02});
        failsNaming(LLAVA, bad, "could not be loaded by ONNX Runtime");
        Path truncated = tmp.resolve("truncated.onnx");
        byte[] good = Files.readAllBytes(ONNX.resolve("llava-llama-default-bf16.onnx"));
        Files.write(truncated, java.util.Arrays.copyOf(good, good.length / 2));
        failsNaming(LLAVA, truncated, "could not be loaded by ONNX Runtime");
    }

    @Test
    void anOpTheRuntimeLacksIsNamed() {
        failsNaming(LLAVA, ONNX.resolve("unsupported-op.onnx"), "could not be loaded by ONNX Runtime",
                "SparkmmNoSuchOp");
    }

    @Test
    void wrongInputNamesNameBothLists() {
        // LLaVA's image graph offered to Qwen2-Audio
        failsNaming(AUDIO, ONNX.resolve("llava-llama-default-bf16.onnx"), "has inputs [pixel_values float[?, 3, 32, 32]]",
                "input_features float[1, 128, 3000]", "feature_attention_mask int64[1, 3000]");
    }

    @Test
    void aWrongInputShapeNamesBothShapes() {
        // the 28-pixel tower of another checkpoint
        failsNaming(LLAVA, ONNX.resolve("llava-qwen2-full-f32.onnx"), "input pixel_values is float[?, 3, 28, 28]",
                "pixel_values float[1, 3, 32, 32]");
    }

    @Test
    void aWrongOutputShapeNamesBothShapes() {
        // same image size and token count, but a 32-wide language model's projector
        failsNaming(LLAVA, ONNX.resolve("llava-mistral-layers-f16.onnx"), "output image_features is float[?, 16, 32]",
                "image_features float[1, 16, 64]");
    }

    @Test
    void aFamilyWithoutAnOnnxSeamRefusesNamingTheFamily() {
        failsNaming(Path.of("src/test/resources/checkpoints-llava-onevision/llava_onevision_ours"),
                ONNX.resolve("llava-llama-default-bf16.onnx"), "llava", "cannot take an ONNX encoder", "anyres");
    }

    @Test
    void modelsOverOneFileShareOneSessionAndTheLastClosesIt() {
        int before = OnnxSessions.open();
        Path onnx = ONNX.resolve("llava-llama-default-bf16.onnx");
        try (LoadedModel a = LoadedModel.open(LLAVA, backend, onnx)) {
            try (LoadedModel b = LoadedModel.open(LLAVA, backend, onnx.toAbsolutePath())) {
                assertThat(OnnxSessions.open()).isEqualTo(before + 1);
            }
            assertThat(OnnxSessions.open()).isEqualTo(before + 1);
        }
        assertThat(OnnxSessions.open()).isEqualTo(before);
    }
}
