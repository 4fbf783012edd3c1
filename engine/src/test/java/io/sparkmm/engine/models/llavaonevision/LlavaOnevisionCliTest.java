package io.sparkmm.engine.models.llavaonevision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.cli.Main;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * LLaVA-OneVision from the command line: the models listing; {@code --image} with a chat prompt and
 * with a plain prompt on the tiny checkpoint transformers wrote; {@code --video} with a chat prompt,
 * three {@code --image}s in one prompt (ours), and a {@code --prompt-ids} token prompt with an image and
 * a video. Greedy tokens must be the ones transformers generated for the same media and prompt
 * (fixtures.json, video_fixtures.json).
 */
class LlavaOnevisionCliTest {

    static Path model;
    static Path image;
    static JsonNode fixtures;

    @BeforeAll
    static void setUp() throws Exception {
        model = Path.of(LlavaOnevisionCliTest.class.getResource("/llava_onevision/tiny").toURI());
        image = Path.of(LlavaOnevisionCliTest.class.getResource("/llava_onevision/images/ov-40x30.png").toURI());
        try (InputStream in = LlavaOnevisionCliTest.class.getResourceAsStream("/llava_onevision/fixtures.json")) {
            fixtures = new ObjectMapper().readTree(in);
        }
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    private static JsonNode fixture(String name) {
        for (JsonNode c : fixtures.get("cases")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new IllegalStateException("no fixture case " + name);
    }

    @Test
    void theModelsCommandListsTheFamilyForImages() {
        String[] r = run("models");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        String line = r[1].lines().filter(l -> l.contains("LlavaOnevisionForConditionalGeneration")).findFirst()
                .orElseThrow(() -> new AssertionError("not listed:\n" + r[1]));
        assertThat(line).contains("llava-onevision").contains("image").contains("video");
    }

    @Test
    void aChatPromptWithAnImageGivesTransformersGreedyTokens() throws Exception {
        JsonNode c = fixture("ov-40x30.png chat");
        check(c, "--prompt", c.get("question").asText(), "--chat");
    }

    @Test
    void aPlainPromptWithItsOwnImageTokenGivesTransformersGreedyTokens() throws Exception {
        JsonNode c = fixture("ov-40x30.png plain");
        check(c, "--prompt", c.get("prompt_text").asText());
    }

    @Test
    void aChatPromptWithAVideoGivesTransformersGreedyTokens() throws Exception {
        JsonNode c = videoFixture("ours video chat");
        Path clip = videoFile(c.get("content").get(0).get(1).asText());
        checkOn(c, ours(), "--video", clip.toString(), "--prompt", c.get("content").get(1).get(1).asText(), "--chat");
    }

    @Test
    void aPlainPromptWithThreeImagesGivesTransformersGreedyTokens() throws Exception {
        JsonNode c = videoFixture("ours three images plain");
        java.util.List<String> args = new java.util.ArrayList<>();
        for (JsonNode e : c.get("content")) {
            if (e.get(0).asText().equals("image")) {
                args.addAll(java.util.List.of("--image", imagePath(e.get(1).asText()).toString()));
            }
        }
        args.addAll(java.util.List.of("--prompt", c.get("prompt_text").asText()));
        checkOn(c, ours(), args.toArray(String[]::new));
    }

    /** A token prompt (one {@code <image>} and one {@code <video>} id) is expanded as the text one is. */
    @Test
    void aTokenPromptWithAnImageAndAVideoGivesTransformersGreedyTokens() throws Exception {
        JsonNode c = videoFixture("tiny image and video plain");
        // transformers' expanded ids with each run of image / video tokens back to one placeholder
        StringBuilder ids = new StringBuilder();
        int previous = -1;
        for (JsonNode id : c.get("input_ids")) {
            int t = id.asInt();
            boolean media = t == 94 || t == 95;
            if (!(media && t == previous)) {
                ids.append(ids.length() > 0 ? "," : "").append(t);
            }
            previous = t;
        }
        checkOn(c, model, "--image", imagePath(c.get("content").get(0).get(1).asText()).toString(),
                "--video", videoFile(c.get("content").get(1).get(1).asText()).toString(), "--prompt-ids", ids.toString());
    }

    @org.junit.jupiter.api.io.TempDir
    static Path tmp;

    /** tiny-checkpoint writes the checkpoint whose loading and logits transformers checked (BF16, seed 41). */
    @Test
    void tinyCheckpointWritesTheCheckpointTransformersChecked() throws Exception {
        Path out = tmp.resolve("tiny-ov");
        String[] r = run("tiny-checkpoint", "--out", out.toString(), "--arch", "llava-onevision", "--dtype", "bf16",
                "--seed", "41");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        for (String f : java.util.List.of("config.json", "model.safetensors", "processor_config.json",
                "video_preprocessor_config.json", "tokenizer.json")) {
            assertThat(java.nio.file.Files.readAllBytes(out.resolve(f))).as(f)
                    .isEqualTo(java.nio.file.Files.readAllBytes(ours().resolve(f)));
        }
    }

    private static Path ours() throws Exception {
        return Path.of(LlavaOnevisionCliTest.class.getResource(LlavaOnevisionVideoConformanceTest.OURS).toURI());
    }

    private static Path imagePath(String name) throws Exception {
        return Path.of(LlavaOnevisionCliTest.class.getResource("/llava_onevision/images/" + name).toURI());
    }

    /** The fixture frames as a lossless video file. */
    private static Path videoFile(String name) throws Exception {
        Path out = tmp.resolve(name + ".mkv");
        if (!java.nio.file.Files.exists(out)) {
            String pattern = imagePath(name + "-f0.png").getParent().resolve(name + "-f%d.png").toString();
            io.sparkmm.engine.models.qwen2vl.Qwen2VlTesting.ffmpegInput(out,
                    java.util.List.of("-framerate", "2", "-i", pattern), "-c:v", "png");
        }
        return out;
    }

    private static JsonNode videoFixture(String name) throws Exception {
        try (InputStream in = LlavaOnevisionCliTest.class.getResourceAsStream("/llava_onevision/video_fixtures.json")) {
            for (JsonNode c : new ObjectMapper().readTree(in).get("cases")) {
                if (c.get("name").asText().equals(name)) {
                    return c;
                }
            }
        }
        throw new IllegalStateException("no video fixture case " + name);
    }

    private static void checkOn(JsonNode c, Path checkpoint, String... rest) throws Exception {
        String[] common = {"generate", "--model", checkpoint.toString(), "--max-tokens", "8", "--temperature", "0", "--json"};
        String[] args = java.util.Arrays.copyOf(common, common.length + rest.length);
        System.arraycopy(rest, 0, args, common.length, rest.length);
        String[] r = run(args);
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        JsonNode out = new ObjectMapper().readTree(r[1]);
        assertThat(out.get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
        assertThat(out.get("token_ids")).isEqualTo(c.get("greedy_ids"));
    }

    private static void check(JsonNode c, String... prompt) throws Exception {
        String[] common = {"generate", "--model", model.toString(), "--image", image.toString(), "--max-tokens", "8",
                "--temperature", "0", "--json"};
        String[] args = java.util.Arrays.copyOf(common, common.length + prompt.length);
        System.arraycopy(prompt, 0, args, common.length, prompt.length);
        String[] r = run(args);
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        JsonNode out = new ObjectMapper().readTree(r[1]);
        assertThat(out.get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
        assertThat(out.get("token_ids")).isEqualTo(c.get("greedy_ids"));
    }
}
