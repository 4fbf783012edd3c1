package io.sparkmm.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.fakevision.FakeVisionFamily;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.DType;
import io.sparkmm.processors.ProcessorKwargs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * mm_processor_kwargs through the CLI: the prompts-file field and the {@code --mm-processor-kwargs}
 * default, on the test-only fake-vision family, whose processor takes a {@code patch_size} that
 * changes an image's grid and so the prompt length a result reports.
 */
class ProcessorKwargsCliTest {

    @TempDir
    static Path root;
    static Path model;
    static Path image;
    static int imageToken;

    private static final SamplingParams SAMPLING = SamplingParams.greedy(3);

    @BeforeAll
    static void setUp() throws Exception {
        model = new FakeVisionFamily().writeTinyCheckpoint(root.resolve("fake"), "fake-vision", DType.F32, 5L);
        imageToken = new ObjectMapper().readTree(model.resolve(Checkpoint.CONFIG).toFile()).get("image_token_id").asInt();
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(4);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        image = root.resolve("img.png");
        ImageIO.write(img, "png", image.toFile());
    }

    private static PromptLine line(String json, ProcessorKwargs flagDefault) {
        return PromptLine.parse(3, json, SAMPLING, false, flagDefault);
    }

    @Test
    void aLineReadsItsSettingsAndRefusesNonObjectsAndNestedValues() {
        PromptLine good = line("{\"prompt\": \"hi\", \"mm_processor_kwargs\": {\"min_pixels\": 3136, \"max_pixels\": 200704,"
                + " \"mode\": \"fast\", \"on\": true}}", ProcessorKwargs.NONE);
        assertThat(good.error()).isNull();
        assertThat(good.processorKwargs().values()).containsExactly(Map.entry("max_pixels", 200704),
                Map.entry("min_pixels", 3136), Map.entry("mode", "fast"), Map.entry("on", true));

        PromptLine quoted = line("{\"prompt\": \"hi\", \"mm_processor_kwargs\": \"{\\\"min_pixels\\\": 1}\"}", ProcessorKwargs.NONE);
        assertThat(quoted.error()).startsWith("line 3: ").contains("mm_processor_kwargs must be a JSON object");
        PromptLine array = line("{\"prompt\": \"hi\", \"mm_processor_kwargs\": [1, 2]}", ProcessorKwargs.NONE);
        assertThat(array.error()).contains("must be a JSON object").contains("[1,2]");
        PromptLine nested = line("{\"prompt\": \"hi\", \"mm_processor_kwargs\": {\"size\": {\"h\": 2}}}", ProcessorKwargs.NONE);
        assertThat(nested.error()).startsWith("line 3: ").contains("\"size\"").contains("number, string or boolean")
                .contains("{\"h\":2}");
        PromptLine nullValue = line("{\"prompt\": \"hi\", \"mm_processor_kwargs\": {\"min_pixels\": null}}", ProcessorKwargs.NONE);
        assertThat(nullValue.error()).contains("\"min_pixels\"");
        PromptLine brokenLine = line("{\"prompt\": \"hi\", \"mm_processor_kwargs\": {\"min_pixels\": }", ProcessorKwargs.NONE);
        assertThat(brokenLine.error()).startsWith("line 3: not valid JSON");
    }

    @Test
    void theFlagIsTheDefaultAndALinesOwnObjectIsMergedOverIt() {
        ProcessorKwargs flag = new ProcessorKwargs(Map.of("min_pixels", 1, "max_pixels", 9));
        assertThat(line("{\"prompt\": \"hi\"}", flag).processorKwargs()).isEqualTo(flag);
        // merged: the line's min_pixels wins, max_pixels from the flag survives
        assertThat(line("{\"prompt\": \"hi\", \"mm_processor_kwargs\": {\"min_pixels\": 5}}", flag).processorKwargs().values())
                .containsExactly(Map.entry("max_pixels", 9), Map.entry("min_pixels", 5));
        assertThat(line("{\"prompt\": \"hi\", \"mm_processor_kwargs\": {}}", flag).processorKwargs()).isEqualTo(flag);
    }

    @Test
    void aBadFlagIsAUsageErrorNamingTheFlag() {
        for (String[] c : new String[][] {{"{\"patch_size\": ", "not valid JSON"}, {"[16]", "must be a JSON object"},
                {"{\"patch_size\": {\"v\": 16}}", "\"patch_size\" must be a number, string or boolean"}}) {
            String[] r = run("generate", "--model", model.toString(), "--prompt-ids", "5,6", "--mm-processor-kwargs", c[0]);
            assertThat(r[0]).as(r[2]).isEqualTo("2");
            assertThat(r[2]).contains("error: --mm-processor-kwargs: ").contains(c[1]).contains("usage:");
        }
    }

    @Test
    void theSettingReachesTheProcessorPerLineAndABadKeyFailsOnlyItsLine() throws Exception {
        String img = "\"prompt_ids\": [5, " + imageToken + ", 6], \"images\": \"" + image + "\", \"max_tokens\": 3,"
                + " \"temperature\": 0, \"ignore_eos\": true";
        String[] lines = {
                "{" + img + "}",                                                  // the flag: 16 px patches, 1x1
                "{" + img + ", \"mm_processor_kwargs\": {\"patch_size\": 8}}",    // 2x2 on the same image
                "{" + img + ", \"mm_processor_kwargs\": {}}",                     // merged over the flag: 16
                "{" + img + ", \"mm_processor_kwargs\": {\"max_pixels\": 200704}}",
                "{" + img + ", \"mm_processor_kwargs\": {\"patch_size\": [8]}}",
                "{" + img + ", \"mm_processor_kwargs\": {\"patch_size\": 2.5}}",
                "{" + img + "}",
                "{\"prompt_ids\": [5, 6], \"max_tokens\": 3}"};
        Path file = root.resolve("kwargs.jsonl");
        Files.writeString(file, String.join("\n", lines) + "\n");
        for (String mode : new String[] {"--json", "--naive"}) {
            String[] r = run("generate", "--model", model.toString(), "--prompts-file", file.toString(),
                    "--mm-processor-kwargs", "{\"patch_size\": 16}", "--json", mode);
            assertThat(r[0]).as(r[2]).isEqualTo("0");
            String[] out = r[1].trim().split("\n");
            assertThat(out).hasSize(lines.length);
            ObjectMapper json = new ObjectMapper();
            JsonNode[] j = new JsonNode[out.length];
            for (int i = 0; i < out.length; i++) {
                j[i] = json.readTree(out[i]);
            }
            // text + start + rows x (patches + newline) + end
            assertThat(j[0].get("prompt_tokens").asInt()).as(out[0]).isEqualTo(2 + 2 + 1 * 2);
            assertThat(j[1].get("prompt_tokens").asInt()).as(out[1]).isEqualTo(2 + 2 + 2 * 3);
            assertThat(j[2].get("prompt_tokens").asInt()).as(out[2]).isEqualTo(2 + 2 + 1 * 2);
            assertThat(j[6].get("prompt_tokens").asInt()).as(out[6]).isEqualTo(6);
            assertThat(j[0].get("token_ids")).isEqualTo(j[2].get("token_ids"));
            assertThat(j[3].get("error").asText()).startsWith("line 4: ").contains("\"max_pixels\"")
                    .contains("it takes patch_size");
            assertThat(j[4].get("error").asText()).startsWith("line 5: ").contains("\"patch_size\"")
                    .contains("number, string or boolean");
            assertThat(j[5].get("error").asText()).startsWith("line 6: ").contains("positive integer").contains("2.5");
            for (int i : new int[] {0, 1, 2, 6, 7}) {
                assertThat(j[i].has("error")).as(out[i]).isFalse();
                assertThat(j[i].get("token_ids")).hasSize(3);
            }
        }
    }

    @Test
    void theFlagAppliesToASinglePromptAndAnUnknownKeyFailsIt() {
        String[] base = {"generate", "--model", model.toString(), "--prompt-ids", "5," + imageToken + ",6",
                "--image", image.toString(), "--max-tokens", "2", "--json"};
        String[] plain = run(base);
        String[] coarse = run(concat(base, "--mm-processor-kwargs", "{\"patch_size\": 16}"));
        assertThat(plain[1]).as(plain[2]).contains("\"prompt_tokens\":10");
        assertThat(coarse[1]).as(coarse[2]).contains("\"prompt_tokens\":6");
        String[] bad = run(concat(base, "--mm-processor-kwargs", "{\"min_pixels\": 3136}"));
        assertThat(bad[0]).isEqualTo("1");
        assertThat(bad[2]).contains("\"min_pixels\"").contains("it takes patch_size");
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    private static String[] concat(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }
}
