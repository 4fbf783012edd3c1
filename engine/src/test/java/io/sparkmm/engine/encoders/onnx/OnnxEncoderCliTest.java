package io.sparkmm.engine.encoders.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.cli.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code generate --encoder-onnx}: the native answers from an ONNX vision encoder; a bad file stops the run naming it. */
class OnnxEncoderCliTest {

    static final String CKPT = OnnxEncoderOracleTest.LLAVA.resolve("llava-qwen2-full-f32").toString();
    static final String ONNX = OnnxEncoderOracleTest.ONNX.resolve("llava-qwen2-full-f32.onnx").toString();

    @Test
    void anOnnxVisionEncoderGivesTheNativeAnswers() throws Exception {
        Path img = OnnxEncoderOracleTest.IMAGES;
        String[] common = {"generate", "--model", CKPT, "--prompt", "<image> or <image>?",
            "--image", img.resolve("landscape-48x36.png").toString(), "--image", img.resolve("portrait-21x40.png").toString(),
            "--max-tokens", "5", "--temperature", "0", "--logprobs", "1", "--json", "--device", "cpu"};
        String[] nat = run(common);
        String[] onnx = run(concat(common, "--encoder-onnx", ONNX));
        assertThat(nat[0]).as(nat[2]).isEqualTo("0");
        assertThat(onnx[0]).as(onnx[2]).isEqualTo("0");
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(nat[1]);
        JsonNode b = json.readTree(onnx[1]);
        assertThat(b.get("token_ids")).isNotEmpty().isEqualTo(a.get("token_ids"));
        assertThat(b.get("text")).isEqualTo(a.get("text"));
        double lpA = a.get("logprobs").get(0).get(0).get("logprob").asDouble();
        double lpB = b.get("logprobs").get(0).get(0).get("logprob").asDouble();
        assertThat(Math.abs(lpA - lpB)).isLessThanOrEqualTo(1e-4);
    }

    @Test
    void aBadEncoderFileStopsTheRunNamingIt() {
        String bad = OnnxEncoderOracleTest.ONNX.resolve("unsupported-op.onnx").toString();
        String[] r = run("generate", "--model", CKPT, "--prompt", "<image>", "--image",
                OnnxEncoderOracleTest.IMAGES.resolve("square-32x32.png").toString(), "--encoder-onnx", bad, "--json");
        assertThat(r[0]).isEqualTo("1");
        assertThat(r[1]).isEmpty();
        assertThat(r[2]).contains("error:").contains(bad).contains("could not be loaded by ONNX Runtime");
    }

    private static String[] concat(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }
}
