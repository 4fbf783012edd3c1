package io.sparkmm.engine.models.qwen25omni;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.cli.Main;
import io.sparkmm.engine.models.qwen2audio.Qwen2AudioTestClips;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlTesting;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI on transformers' tiny Qwen2.5-Omni thinker: an audio question and an image + a video with
 * its own sound (--use-audio-in-video) + a separate clip give transformers' greedy tokens
 * (qwen25omni_fixtures.py) on the paged engine and the naive path; bad media fail their own line only.
 */
class Qwen25OmniCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void theModelsCommandListsTheFamily() {
        String[] r = run("models");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        String line = r[1].lines().filter(l -> l.contains("Qwen2_5OmniThinkerForConditionalGeneration")).findFirst()
                .orElseThrow();
        assertThat(line).contains("qwen2.5-omni").contains("audio").contains("image").contains("video");
    }

    @Test
    void anAudioQuestionGivesTransformersTokens() throws Exception {
        JsonNode c = OmniTesting.fixtureCase("audio");
        Path wav = OmniTesting.wav(dir, c.get("clips").get(0).get(0).asInt(), c.get("clips").get(0).get(1).asInt());
        String[] args = {"generate", "--model", OmniTesting.CKPT.toString(), "--prompt", c.get("prompt").asText(),
            "--audio", wav.toString(), "--max-tokens", "5", "--temperature", "0", "--json"};
        for (String[] r : List.of(run(args), run(concat(args, "--naive")))) {
            assertThat(r[0]).as(r[2]).isEqualTo("0");
            JsonNode e = JSON.readTree(r[1]);
            assertThat(e.get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
            assertThat(e.get("token_ids")).isEqualTo(c.get("greedy_tokens"));
        }
    }

    @Test
    void aVideoWithItsSoundAnImageAndAClipGiveTransformersTokens() throws Exception {
        JsonNode c = OmniTesting.fixtureCase("mixed_audio_in_video");
        JsonNode v = c.get("videos").get(0);
        JsonNode track = c.get("clips").get(0);
        JsonNode clip = c.get("clips").get(1);
        JsonNode img = c.get("images").get(0);
        Path video = OmniTesting.video(dir, v.get(0).asInt(), v.get(1).asInt(), v.get(2).asInt(), v.get(3).asInt(),
                track.get(0).asInt(), track.get(1).asInt());
        Path wav = OmniTesting.wav(dir, clip.get(0).asInt(), clip.get(1).asInt());
        Path png = OmniTesting.png(dir, img.get(0).asInt(), img.get(1).asInt(), img.get(2).asInt());
        String[] args = {"generate", "--model", OmniTesting.CKPT.toString(), "--prompt", c.get("prompt").asText(),
            "--image", png.toString(), "--video", video.toString(), "--audio", wav.toString(), "--use-audio-in-video",
            "--max-tokens", "5", "--temperature", "0", "--json"};
        for (String[] r : List.of(run(args), run(concat(args, "--naive")))) {
            assertThat(r[0]).as(r[2]).isEqualTo("0");
            JsonNode e = JSON.readTree(r[1]);
            assertThat(e.get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
            assertThat(e.get("token_ids")).isEqualTo(c.get("greedy_tokens"));
        }
        // without the flag the video is its frames alone: 4 x 24 x 24 / 4 = 576 tokens, no audio tokens
        // and no <|audio_bos|>/<|audio_eos|> inside the video
        String[] plain = run(java.util.Arrays.stream(args).filter(a -> !a.equals("--use-audio-in-video"))
                .toArray(String[]::new));
        assertThat(plain[0]).as(plain[2]).isEqualTo("0");
        int videoAudioTokens = c.get("feature_mask_sums").get(0).asInt();
        assertThat(JSON.readTree(plain[1]).get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size() - 2
                - ((((videoAudioTokens - 1) / 2 + 1) - 2) / 2 + 1));
    }

    @Test
    void chatModeWritesTheClipAndTheVideoWithItsSoundAsTransformersDoes() throws Exception {
        JsonNode c = OmniTesting.fixtures().get("chat");
        JsonNode v = c.get("video");
        Path video = OmniTesting.video(dir, v.get(0).asInt(), v.get(1).asInt(), v.get(2).asInt(), v.get(3).asInt(),
                c.get("video_track").get(0).asInt(), c.get("video_track").get(1).asInt());
        Path wav = OmniTesting.wav(dir, c.get("clip").get(0).asInt(), c.get("clip").get(1).asInt());
        String question = c.get("messages").get(0).get("content").get(2).get("text").asText();
        String[] r = run("generate", "--model", OmniTesting.CKPT.toString(), "--prompt", question, "--chat",
                "--audio", wav.toString(), "--video", video.toString(), "--use-audio-in-video", "--max-tokens", "5",
                "--temperature", "0", "--json");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        JsonNode e = JSON.readTree(r[1]);
        // transformers' apply_chat_template + processor on the same message (qwen25omni_fixtures.py)
        assertThat(e.get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
        assertThat(e.get("token_ids")).isEqualTo(c.get("greedy_tokens"));
    }

    @Test
    void badMediaFailTheirOwnLineOnly() throws Exception {
        String audio = "<|audio_bos|><|AUDIO|><|audio_eos|>";
        String video = "<|vision_bos|><|VIDEO|><|vision_eos|>";
        Path good = OmniTesting.wav(dir, 52800, 3);
        Path silent = dir.resolve("silent.wav");
        Files.write(silent, Qwen2AudioTestClips.floatWav(new float[32000], 16000));
        Path empty = Files.write(dir.resolve("empty.wav"), new byte[0]);
        Path mute = OmniTesting.video(dir, 4, 56, 56, 3, 0, 0);
        // two hours of 8-bit mono audio at 1 kHz (7.2 MB): over the 600 s default limit
        Path twoHours = Qwen2VlTesting.ffmpeg(dir.resolve("two-hours.wav"), "anullsrc=r=1000:cl=mono", "-t", "7200",
                "-c:a", "pcm_u8");
        Path file = dir.resolve("prompts.jsonl");
        Files.writeString(file, String.join("\n",
                line(audio + " what", "audio", good, false),
                line(audio + " what", "audio", silent, false),
                line(audio + " what", "audio", empty, false),
                line(video + " what", "video", mute, true),
                line(audio + " what", "audio", twoHours, false),
                line(video + " what", "video", mute, false),
                line(audio + " what", "audio", good, false)) + "\n");
        String[] r = run("generate", "--model", OmniTesting.CKPT.toString(), "--prompts-file", file.toString(),
                "--max-tokens", "3", "--temperature", "0", "--json");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        JsonNode[] lines = r[1].lines().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception ex) {
                throw new IllegalStateException(l, ex);
            }
        }).toArray(JsonNode[]::new);
        assertThat(lines).hasSize(7);
        for (int i : new int[] {0, 1, 5, 6}) {
            assertThat(lines[i].has("error")).as(lines[i].toString()).isFalse();
            assertThat(lines[i].get("token_ids")).hasSize(3);
        }
        assertThat(lines[6].get("token_ids")).isEqualTo(lines[0].get("token_ids"));
        assertThat(lines[2].get("error").asText()).startsWith("line 3: ").contains("empty.wav");
        assertThat(lines[3].get("error").asText()).startsWith("line 4: ").contains(mute.getFileName().toString())
                .contains("no audio track").contains("use_audio_in_video");
        assertThat(lines[4].get("error").asText()).startsWith("line 5: ").contains("two-hours.wav")
                .contains("maxAudioSeconds");
    }

    private static String line(String prompt, String modality, Path media, boolean audioInVideo) {
        return "{\"prompt\": \"" + prompt + "\", \"" + modality + "\": \"" + media + "\""
                + (audioInVideo ? ", \"mm_processor_kwargs\": {\"use_audio_in_video\": true}" : "") + "}";
    }

    private static String[] concat(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }
}
