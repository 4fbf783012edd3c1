package io.sparkmm.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
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
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Images through the CLI on a tiny LLaVA checkpoint: the paged engine equals the naive path on
 * real files, and a corpus of bad files gives each file its own error while the good ones in the
 * same run still generate.
 */
class MultimodalCliTest {

    @TempDir
    static Path root;
    static Path model;
    static Path red;
    static Path noise;

    @BeforeAll
    static void setUp() throws Exception {
        model = TinyLlavaCheckpoint.write(root.resolve("llava"), TinyLlavaCheckpoint.Spec.llama());
        red = write("red.png", 64, 48, (x, y) -> 0xDC1E1E);
        Random rnd = new Random(3);
        noise = write("noise.jpg", 80, 80, (x, y) -> rnd.nextInt(0x1000000));
        Files.write(root.resolve("zero.jpg"), new byte[0]);
        byte[] junk = new byte[500];
        rnd.nextBytes(junk);
        Files.write(root.resolve("junk.png"), junk);
        byte[] jpg = Files.readAllBytes(noise);
        Files.write(root.resolve("truncated.jpg"), Arrays.copyOf(jpg, jpg.length / 2));
        Files.writeString(root.resolve("text.webp"), "this is not an image");
    }

    private interface Pixel {
        int rgb(int x, int y);
    }

    private static Path write(String name, int w, int h, Pixel p) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, p.rgb(x, y));
            }
        }
        Path f = root.resolve(name);
        ImageIO.write(img, name.substring(name.lastIndexOf('.') + 1).replace("jpg", "jpeg"), f.toFile());
        return f;
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void anImagePromptGivesTheSameTokensThroughTheEngineAndTheNaivePath() throws Exception {
        String[] common = {"generate", "--model", model.toString(), "--prompt", "What is this?", "--chat",
                "--image", red.toString(), "--max-tokens", "6", "--temperature", "0", "--json"};
        String[] engine = run(common);
        String[] naive = run(concat(common, "--naive"));
        assertThat(engine[0]).as(engine[2]).isEqualTo("0");
        ObjectMapper json = new ObjectMapper();
        JsonNode e = json.readTree(engine[1]);
        JsonNode n = json.readTree(naive[1]);
        assertThat(e.get("token_ids")).hasSize(6).isEqualTo(n.get("token_ids"));
        // the prompt holds the expanded image run: chat text plus one image's placeholder count
        assertThat(e.get("prompt_tokens").asInt()).isGreaterThan(16);

        String[] two = run("generate", "--model", model.toString(), "--prompt", "<image> or <image>?",
                "--image", red.toString(), "--image", noise.toString(), "--max-tokens", "4", "--temperature", "0", "--json");
        String[] twoNaive = run("generate", "--model", model.toString(), "--prompt", "<image> or <image>?",
                "--image", red.toString(), "--image", noise.toString(), "--max-tokens", "4", "--temperature", "0",
                "--json", "--naive");
        assertThat(json.readTree(two[1]).get("token_ids")).isEqualTo(json.readTree(twoNaive[1]).get("token_ids"));
    }

    @Test
    void everyBadFileGetsItsOwnErrorAndTheGoodOnesStillGenerate() throws Exception {
        String[] files = {red.toString(), root.resolve("zero.jpg").toString(), root.resolve("junk.png").toString(),
                noise.toString(), root.resolve("truncated.jpg").toString(), root.resolve("text.webp").toString(),
                root.resolve("missing.png").toString()};
        StringBuilder lines = new StringBuilder();
        for (String f : files) {
            lines.append("{\"prompt\": \"Describe.\", \"chat\": true, \"images\": \"").append(f)
                    .append("\", \"max_tokens\": 3, \"temperature\": 0}\n");
        }
        Path prompts = root.resolve("bad.jsonl");
        Files.writeString(prompts, lines);
        String[] r = run("generate", "--model", model.toString(), "--prompts-file", prompts.toString(), "--json");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        String[] out = r[1].trim().split("\n");
        assertThat(out).hasSize(files.length);
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < files.length; i++) {
            JsonNode j = json.readTree(out[i]);
            boolean good = files[i].equals(red.toString()) || files[i].equals(noise.toString());
            if (good) {
                assertThat(j.has("error")).as(out[i]).isFalse();
                assertThat(j.get("token_ids")).hasSize(3);
            } else {
                assertThat(j.get("error").asText()).as("line %d", i + 1)
                        .contains("line " + (i + 1)).contains(Path.of(files[i]).getFileName().toString());
            }
        }
        assertThat(r[2]).contains("(5 failed)");
    }

    private static String[] concat(String[] a, String b) {
        String[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }
}
