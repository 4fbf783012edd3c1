package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.cli.Main;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlTesting;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad audio among good audio in one engine run (a CLI prompts file on our Hub-layout checkpoint):
 * 2 s of digital silence is a valid clip and gets transformers' own answer (qwen2audio_ours_fixtures.py),
 * a 0-byte file and a 2-hour FLAC (over the default maxAudioSeconds of 600, refused from the
 * container's duration before decoding) get errors naming their files, and the good clip around them
 * still gets HF's greedy tokens: one output line per input line, in order.
 */
class Qwen2AudioBadInputTest {

    private static final Path RES = Path.of("src/test/resources/qwen2audio");
    private static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_ours_hub_bf16");

    @TempDir
    Path tmp;

    @Test
    void badClipsFailTheirLinesOnly() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode fx = json.readTree(RES.resolve("qwen2audio_ours_fixtures.json").toFile()).get("tf5");
        JsonNode good = fx.get("cases").get(0);
        JsonNode silent = fx.get("silent");
        Path goodWav = Files.write(tmp.resolve("good.wav"), Qwen2AudioTestClips.floatWav(
                Qwen2AudioTestClips.clip(good.get("samples").asInt(), good.get("seed").asLong()), 16000));
        Path silentWav = Files.write(tmp.resolve("silent.wav"),
                Qwen2AudioTestClips.floatWav(new float[silent.get("samples").asInt()], 16000));
        Path empty = Files.write(tmp.resolve("empty.wav"), new byte[0]);
        Path twoHours = Qwen2VlTesting.ffmpeg(tmp.resolve("two-hours.flac"), "anullsrc=r=8000:cl=mono", "-t", "7200",
                "-c:a", "flac");
        String prompt = json.readTree(RES.resolve("qwen2audio_ours_fixtures.json").toFile()).get("prompt").asText();
        List<String> lines = new ArrayList<>();
        for (Path clip : List.of(goodWav, empty, silentWav, twoHours, goodWav)) {
            ObjectNode line = json.createObjectNode();
            line.put("prompt", prompt);
            line.put("audio", clip.toString());
            line.put("max_tokens", 6);
            line.put("temperature", 0);
            line.put("ignore_eos", true);
            lines.add(line.toString());
        }
        Path prompts = Files.write(tmp.resolve("prompts.jsonl"), lines);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"generate", "--model", CKPT.toString(), "--prompts-file", prompts.toString(),
            "--json"}, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String[] results = out.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertThat(results).as("one line out per line in; stderr: %s", err).hasSize(5);
        JsonNode[] r = new JsonNode[5];
        for (int i = 0; i < 5; i++) {
            r[i] = json.readTree(results[i]);
        }
        assertThat(r[0].get("token_ids")).isEqualTo(good.get("greedy_tokens"));
        assertThat(r[4].get("token_ids")).isEqualTo(good.get("greedy_tokens"));
        assertThat(r[2].get("error")).as("silence is a clip, not an error").isNull();
        assertThat(r[2].get("prompt_tokens").asInt()).isEqualTo(silent.get("input_ids").size());
        assertThat(r[2].get("token_ids")).isEqualTo(silent.get("greedy_tokens"));
        assertThat(r[1].get("error").asText()).contains("empty.wav");
        assertThat(r[3].get("error").asText()).contains("two-hours.flac").contains("maxAudioSeconds");
        for (JsonNode bad : List.of(r[1], r[3])) {
            assertThat(bad.get("token_ids")).isEmpty();
            assertThat(bad.get("text").isNull()).isTrue();
        }
        assertThat(code).as("per-line errors are results, not a failed run").isZero();
    }
}
