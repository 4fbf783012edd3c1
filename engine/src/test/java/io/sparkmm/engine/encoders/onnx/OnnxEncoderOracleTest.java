package io.sparkmm.engine.encoders.onnx;

import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.encoders.ExternalEncoderModel;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlTesting;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The committed ONNX exports of the tiny checkpoints' encoders (torch.onnx.export of transformers'
 * own modules: src/test/python/onnx_encoder_export.py) against the engine's native towers, which
 * the HF conformance tests hold to transformers: every encoder row within 1e-4, and the same greedy
 * tokens through the paged engine.
 */
class OnnxEncoderOracleTest {

    static final Path LLAVA = Path.of("src/test/resources/checkpoints-llava");
    static final Path ONNX = Path.of("src/test/resources/onnx");
    static final Path IMAGES = Path.of("src/test/resources/hf/images");
    static final Path QWEN2VL = Path.of("src/test/resources/checkpoints-qwen2vl");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llava-llama-default-bf16", "llava-qwen2-full-f32", "llava-mistral-layers-f16"})
    void llavaImageEncoderFromOnnxMatchesTheNativeTower(String name) throws Exception {
        List<PromptInput> prompts = List.of(
                image("<image> what is this?", "landscape-48x36.png"),
                image("<image> and", "portrait-21x40.png"),
                image("<image>", "square-32x32.png"));
        check(LLAVA.resolve(name), ONNX.resolve(name + ".onnx"), prompts);
    }

    @Test
    void qwen2AudioEncoderFromOnnxMatchesTheNativeTower() throws Exception {
        String prompt = "<|audio_bos|><|AUDIO|><|audio_eos|> what is this sound ?";
        List<PromptInput> prompts = List.of(audio(prompt, 16000, 1), audio(prompt, 116800, 2), audio(prompt, 16161, 3));
        check(Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny"), ONNX.resolve("qwen2_audio_tiny.onnx"),
                prompts);
    }

    /** A graph exported for grid (1, 8, 8) against the native tower on images that resize to it (112x112). */
    @Test
    void qwen2VlFixedGridEncoderFromOnnxMatchesTheNativeTower() throws Exception {
        // 112x112 stays; 100x120 and 120x104 round to it (multiples of 28)
        check(QWEN2VL.resolve("qwen2_vl_ours_hub_bf16"), ONNX.resolve("qwen2_vl_ours_hub_bf16-1x8x8.onnx"),
                qwen2VlPrompts(new int[][] {{112, 112}, {100, 120}, {120, 104}, {112, 112}}));
    }

    /**
     * 2.5-VL's graph for grid (1, 16, 16), 224x224 images: its 112-pixel attention windows split each
     * image in four, so the window order and the window/full-attention blocks are in the graph.
     */
    @Test
    void qwen25VlFixedGridEncoderFromOnnxMatchesTheNativeTower() throws Exception {
        check(QWEN2VL.resolve("qwen2_5_vl_ours_tf5_f16"), ONNX.resolve("qwen2_5_vl_ours_tf5_f16-1x16x16.onnx"),
                qwen2VlPrompts(new int[][] {{224, 224}, {220, 228}, {230, 218}, {224, 224}}));
    }

    /** One image, another, then two in one prompt, of the given sizes. */
    private static List<PromptInput> qwen2VlPrompts(int[][] sizes) {
        String image = Qwen2VlTesting.IMAGE;
        return List.of(
                PromptInput.text(image + " what is this?", false, List.of(Qwen2VlTesting.image(sizes[0][0], sizes[0][1], 1))),
                PromptInput.text("and " + image, false, List.of(Qwen2VlTesting.image(sizes[1][0], sizes[1][1], 2))),
                PromptInput.text(image + image + " same?", false, List.of(Qwen2VlTesting.image(sizes[2][0], sizes[2][1], 3),
                        Qwen2VlTesting.image(sizes[3][0], sizes[3][1], 4))));
    }

    private static void check(Path ckpt, Path onnx, List<PromptInput> prompts) throws Exception {
        try (Backend b = Backends.open("cpu", 2);
             LoadedModel nativeModel = LoadedModel.open(ckpt, b);
             LoadedModel onnxModel = LoadedModel.open(ckpt, b, onnx)) {
            assertThat(onnxModel.model()).isInstanceOf(ExternalEncoderModel.class);
            assertThat(((ExternalEncoderModel) onnxModel.model()).encoder().description()).contains(onnx.getFileName()
                    .toString()).contains("CPU");
            OnnxEncoderTesting.Comparison c = OnnxEncoderTesting.compare(nativeModel, onnxModel, prompts, 6);
            System.out.printf(Locale.ROOT, "%s: ONNX vs native encoder max |diff| %.3g over %d values, greedy logprob"
                    + " max |diff| %.3g%n", ckpt.getFileName(), c.maxEncoderDiff(), c.encoderValues(), c.maxLogprobDiff());
            assertThat(c.encoderValues()).isGreaterThan(0);
            assertThat(c.maxEncoderDiff()).isLessThanOrEqualTo(1e-4);
            assertThat(c.maxLogprobDiff()).isLessThanOrEqualTo(1e-4);
            for (int i = 0; i < prompts.size(); i++) {
                assertThat(c.onnxTokens().get(i)).as("prompt %d", i).hasSize(6).containsExactly(c.nativeTokens().get(i));
            }
        }
    }

    private static PromptInput image(String text, String file) {
        return PromptInput.text(text, false, List.of(MediaSource.ofPath(IMAGES.resolve(file).toString())));
    }

    private PromptInput audio(String text, int samples, long seed) throws Exception {
        Path wav = tmp.resolve("clip-" + seed + ".wav");
        Files.write(wav, wav16(samples, seed));
        return new PromptInput(text, null, false, null, List.of(), List.of(MediaSource.ofPath(wav.toString())), List.of());
    }

    /** A 16 kHz mono 16-bit clip: a 440 Hz tone under noise. */
    static byte[] wav16(int samples, long seed) {
        Random r = new Random(seed);
        ByteBuffer pcm = ByteBuffer.allocate(2 * samples).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < samples; i++) {
            double v = 0.4 * Math.sin(2 * Math.PI * 440 * i / 16000.0) + 0.2 * (r.nextDouble() - 0.5);
            pcm.putShort((short) Math.round(v * 32767));
        }
        ByteBuffer h = ByteBuffer.allocate(44).order(ByteOrder.LITTLE_ENDIAN);
        h.put("RIFF".getBytes()).putInt(36 + 2 * samples).put("WAVE".getBytes()).put("fmt ".getBytes()).putInt(16)
                .putShort((short) 1).putShort((short) 1).putInt(16000).putInt(32000).putShort((short) 2)
                .putShort((short) 16).put("data".getBytes()).putInt(2 * samples);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(h.array());
        out.writeBytes(pcm.array());
        return out.toByteArray();
    }
}
