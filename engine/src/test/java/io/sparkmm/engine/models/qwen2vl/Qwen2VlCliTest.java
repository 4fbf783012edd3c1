package io.sparkmm.engine.models.qwen2vl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.cli.Main;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Qwen2-VL from the command line: the models listing, --image/--video with the chat template, a
 * prompts file with per-line images, video and mm_processor_kwargs (a bad line failing alone),
 * and the engine agreeing with the naive path.
 */
class Qwen2VlCliTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path image;
    static Path clip;

    @BeforeAll
    static void setUp() throws Exception {
        model = TinyQwen2VlCheckpoint.write(dir.resolve("qwen2.5-vl"), TinyQwen2VlCheckpoint.Spec.qwen25Vl());
        image = Files.write(dir.resolve("picture.png"), Qwen2VlTesting.png(230, 150, 4));
        clip = Qwen2VlTesting.ffmpeg(dir.resolve("clip.mp4"), "testsrc=size=96x64:rate=10:duration=2", "-pix_fmt", "yuv420p");
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void theModelsCommandListsBothArchitecturesWithTheirModalities() {
        String[] r = run("models");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        assertThat(r[1]).contains("qwen2-vl").contains("Qwen2VLForConditionalGeneration")
                .contains("Qwen2_5_VLForConditionalGeneration");
        String line = r[1].lines().filter(l -> l.contains("Qwen2VLForConditionalGeneration")).findFirst().orElseThrow();
        assertThat(line).contains("image").contains("video");
    }

    @Test
    void anImageAndAVideoInChatModeGiveTheNaivePathsTokens() throws Exception {
        String[] common = {"generate", "--model", model.toString(), "--prompt", "Compare them.", "--chat",
                "--image", image.toString(), "--video", clip.toString(), "--max-tokens", "5", "--temperature", "0",
                "--json"};
        String[] engine = run(common);
        String[] naive = run(concat(common, "--naive"));
        assertThat(engine[0]).as(engine[2]).isEqualTo("0");
        assertThat(naive[0]).as(naive[2]).isEqualTo("0");
        ObjectMapper json = new ObjectMapper();
        JsonNode e = json.readTree(engine[1]);
        assertThat(e.get("token_ids")).isNotEmpty().isEqualTo(json.readTree(naive[1]).get("token_ids"));
        // by hand: 230x150 -> 224x140 (16 x 10 patches) -> 40 tokens; 4 of 20 frames (2 fps of 10) of 96x64,
        // kept at 84x56 in the 112*112 video budget -> 2 temporal patches x (3 x 2) -> 12 tokens
        assertThat(e.get("prompt_tokens").asInt()).isGreaterThan(40 + 12);
    }

    @Test
    void aPromptsFileTakesImagesVideoAndSettingsPerLineAndABadLineFailsAlone() throws Exception {
        String pad = "<|vision_start|><|image_pad|><|vision_end|>";
        String vpad = "<|vision_start|><|video_pad|><|vision_end|>";
        Path file = dir.resolve("prompts.jsonl");
        Files.writeString(file, String.join("\n",
                "{\"prompt\": \"" + pad + "what\", \"images\": [\"" + image + "\"]}",
                "{\"prompt\": \"" + pad + "what\", \"images\": [\"" + image + "\"], \"mm_processor_kwargs\": {\"max_pixels\": 12544}}",
                "{\"prompt\": \"" + vpad + "and\", \"video\": \"" + clip + "\", \"mm_processor_kwargs\": {\"num_frames\": 2}}",
                "{\"prompt\": \"" + pad + "what\", \"images\": [\"" + image + "\"], \"mm_processor_kwargs\": {\"max_pixel\": 1}}",
                "{\"prompt\": \"" + pad + pad + "two\", \"images\": [\"" + image + "\"]}",
                "{\"prompt\": \"" + vpad + "and\", \"video\": \"" + clip + "\"}") + "\n");
        String[] r = run("generate", "--model", model.toString(), "--prompts-file", file.toString(), "--max-tokens", "2",
                "--json");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        ObjectMapper json = new ObjectMapper();
        JsonNode[] lines = r[1].lines().map(l -> {
            try {
                return json.readTree(l);
            } catch (Exception ex) {
                throw new IllegalStateException(l, ex);
            }
        }).toArray(JsonNode[]::new);
        assertThat(lines).hasSize(6);
        // by hand: 224x140 -> 40 image tokens; at 12544 px max: 112x84 -> 12
        assertThat(lines[0].get("prompt_tokens").asInt() - lines[1].get("prompt_tokens").asInt()).isEqualTo(40 - 12);
        // num_frames 2 replaces the checkpoint's 2 fps (4 frames): one temporal patch of 3 x 2 tokens instead of two
        assertThat(lines[2].has("error")).as(lines[2].toString()).isFalse();
        assertThat(lines[5].get("prompt_tokens").asInt() - lines[2].get("prompt_tokens").asInt()).isEqualTo(6);
        assertThat(lines[3].get("error").asText()).startsWith("line 4: ").contains("\"max_pixel\"");
        assertThat(lines[4].get("error").asText()).startsWith("line 5: ");
    }

    private static String[] concat(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }
}
