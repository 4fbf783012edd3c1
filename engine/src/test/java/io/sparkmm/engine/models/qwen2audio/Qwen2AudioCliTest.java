package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole engine on transformers' tiny Qwen2-Audio checkpoint, as saved with its processor
 * (tokenizer.json, and the feature extractor only inside processor_config.json, transformers 5's
 * layout): a prompt with one clip through the CLI, paged engine and naive generator, against HF's
 * generate on the same clip (qwen2audio_fixtures.py).
 */
class Qwen2AudioCliTest {

    private static final Path RES = Path.of("src/test/resources/qwen2audio");
    private static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny");

    @TempDir
    Path tmp;

    @Test
    void generatesHfsGreedyTokensFromAClip() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode fx = json.readTree(RES.resolve("qwen2audio_fixtures.json").toFile());
        JsonNode c = fx.get("encoder_cases").get(1);
        int n = c.get("samples").asInt();
        // 32-bit float PCM: the decoder hands back HF's very samples, so the features are HF's.
        Path wav = tmp.resolve("clip.wav");
        Files.write(wav, Qwen2AudioTestClips.floatWav(Qwen2AudioTestClips.clip(n, c.get("seed").asLong()), 16000));
        String[] args = {"generate", "--model", CKPT.toString(), "--prompt", fx.get("prompt").asText(),
            "--audio", wav.toString(), "--max-tokens", String.valueOf(c.get("greedy_tokens").size()),
            "--temperature", "0", "--logprobs", "1", "--json"};
        String[] engine = run(args);
        String[] naive = run(concat(args, "--naive"));
        assertThat(engine[0]).as(engine[2]).isEqualTo("0");
        assertThat(naive[0]).as(naive[2]).isEqualTo("0");
        JsonNode e = json.readTree(engine[1]);
        assertThat(e.get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
        assertThat(e.get("token_ids")).isEqualTo(c.get("greedy_tokens"));
        assertThat(json.readTree(naive[1]).get("token_ids")).isEqualTo(c.get("greedy_tokens"));
        // The tokens alone are a weak check (this random model repeats one token); the first step's
        // logprob is HF's log-softmax of its last-position logits, which the audio rows move by ~0.17.
        JsonNode logits = c.get("last_logits");
        double max = Double.NEGATIVE_INFINITY;
        for (JsonNode v : logits) {
            max = Math.max(max, v.asDouble());
        }
        double sum = 0;
        for (JsonNode v : logits) {
            sum += Math.exp(v.asDouble() - max);
        }
        int first = c.get("greedy_tokens").get(0).asInt();
        double hf = logits.get(first).asDouble() - max - Math.log(sum);
        double got = e.get("logprobs").get(0).get(0).get("logprob").asDouble();
        assertThat(e.get("logprobs").get(0).get(0).get("token_id").asInt()).isEqualTo(first);
        assertThat(Math.abs(got - hf)).as("first logprob %s, transformers %s", got, hf).isLessThanOrEqualTo(1e-5);
        System.out.printf(java.util.Locale.ROOT, "Qwen2-Audio CLI first logprob |diff| vs transformers %.3g%n",
                Math.abs(got - hf));
    }

    @Test
    void chatFlagRendersTheClipThroughTheChatTemplate() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode c = json.readTree(RES.resolve("qwen2audio_chat_fixtures.json").toFile()).get("cases").get(0);
        int n = c.get("samples").get(0).asInt();
        Path wav = tmp.resolve("chat.wav");
        Files.write(wav, Qwen2AudioTestClips.floatWav(Qwen2AudioTestClips.clip(n, c.get("seeds").get(0).asLong()), 16000));
        String[] r = run("generate", "--model", CKPT.toString(), "--prompt", c.get("text").asText(), "--chat",
                "--audio", wav.toString(), "--max-tokens", "2", "--temperature", "0", "--json");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        // transformers' apply_chat_template + processor on the same message (qwen2audio_chat_fixtures.py)
        assertThat(json.readTree(r[1]).get("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
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
