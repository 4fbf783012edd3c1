package io.sparkmm.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.tokenizer.HfTokenizer;
import io.sparkmm.kernels.DType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code generate} command end to end on a tiny checkpoint, in process. */
class GenerateCommandTest {

    @TempDir
    static Path root;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = TinyCheckpoint.write(root.resolve("m"), TinyCheckpoint.Spec.llamaGqa().withDtype(DType.BF16).withSeed(7));
    }

    private record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return new ObjectMapper().readTree(out);
        }
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void promptIdsGreedyWithLogprobs() throws Exception {
        Run r = run("generate", "--model", model.toString(), "--prompt-ids", "5,17,42", "--max-tokens", "6",
                "--temperature", "0", "--logprobs", "3", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("token_ids")).hasSize(6);
        assertThat(j.get("finish_reason").asText()).isEqualTo("length");
        assertThat(j.get("prompt_tokens").asInt()).isEqualTo(3);
        JsonNode lp = j.get("logprobs");
        assertThat(lp).hasSize(6);
        for (int step = 0; step < 6; step++) {
            JsonNode top = lp.get(step);
            assertThat(top).hasSize(3);
            // greedy: the chosen token is the most likely one, and the list is sorted
            assertThat(top.get(0).get("token_id").asInt()).isEqualTo(j.get("token_ids").get(step).asInt());
            assertThat(top.get(0).get("logprob").asDouble()).isGreaterThanOrEqualTo(top.get(1).get("logprob").asDouble());
            assertThat(top.get(2).get("logprob").asDouble()).isLessThan(0);
        }
        // the top-1 probability cannot exceed 1 and three of them cannot sum past 1
        double mass = 0;
        for (JsonNode e : lp.get(0)) {
            mass += Math.exp(e.get("logprob").asDouble());
        }
        assertThat(mass).isLessThanOrEqualTo(1.0 + 1e-9);
    }

    @Test
    void textPromptDecodesToTheTokenIdsAndSameSeedSameOutput() throws Exception {
        String[] args = {"generate", "--model", model.toString(), "--prompt", "the quick brown fox", "--max-tokens", "8",
                "--temperature", "0.9", "--top-p", "0.95", "--top-k", "50", "--seed", "3", "--json"};
        JsonNode a = run(args).json();
        JsonNode b = run(args).json();
        assertThat(a.get("token_ids")).isEqualTo(b.get("token_ids"));
        int[] ids = new int[a.get("token_ids").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = a.get("token_ids").get(i).asInt();
        }
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            assertThat(a.get("text").asText()).isEqualTo(tok.decode(ids, true));
            assertThat(a.get("prompt_tokens").asInt()).isEqualTo(tok.encode("the quick brown fox", true).length);
        }
    }

    @Test
    void chatPromptCountsTheRenderedTemplate() throws Exception {
        JsonNode j = run("generate", "--model", model.toString(), "--prompt", "hi", "--chat", "--system", "be brief",
                "--max-tokens", "2", "--temperature", "0", "--json").json();
        String rendered = "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            assertThat(j.get("prompt_tokens").asInt()).isEqualTo(tok.encode(rendered, false).length);
        }
    }

    @Test
    void eosEndsGenerationWithFinishReasonStop() throws Exception {
        // make the first greedy token the EOS by declaring it so in generation_config.json
        JsonNode first = run("generate", "--model", model.toString(), "--prompt-ids", "9,8,7", "--max-tokens", "1",
                "--temperature", "0", "--json").json();
        int eos = first.get("token_ids").get(0).asInt();
        Path copy = root.resolve("eos");
        TinyCheckpoint.write(copy, TinyCheckpoint.Spec.llamaGqa().withDtype(DType.BF16).withSeed(7));
        Files.writeString(copy.resolve("generation_config.json"), "{\"eos_token_id\": [" + eos + "]}");
        JsonNode j = run("generate", "--model", copy.toString(), "--prompt-ids", "9,8,7", "--max-tokens", "5",
                "--temperature", "0", "--json").json();
        assertThat(j.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(j.get("token_ids")).hasSize(1);
        assertThat(j.get("text").asText()).isEmpty();
    }

    @Test
    void usageErrorsNameTheOption() {
        Run typo = run("generate", "--model", model.toString(), "--prompt", "x", "--max-token", "3");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err()).contains("--max-token").contains("did you mean --max-tokens?");

        Run both = run("generate", "--model", model.toString(), "--prompt", "x", "--prompt-ids", "1");
        assertThat(both.err()).contains("exactly one of --prompt, --prompt-ids or --prompts-file");

        Run badNumber = run("generate", "--model", model.toString(), "--prompt", "x", "--temperature", "hot");
        assertThat(badNumber.err()).contains("--temperature").contains("hot");

        Run badValue = run("generate", "--model", model.toString(), "--prompt", "x", "--top-p", "1.5");
        assertThat(badValue.code()).isEqualTo(1);
        assertThat(badValue.err()).contains("top_p").contains("1.5");

        Run noDir = run("generate", "--model", root.resolve("nope").toString(), "--prompt", "x");
        assertThat(noDir.err()).contains("nope").contains("not a directory");

        Run badId = run("generate", "--model", model.toString(), "--prompt-ids", "1,99999", "--json");
        assertThat(badId.code()).isEqualTo(1);
        assertThat(badId.err()).contains("99999").contains("vocabulary");
    }

    @Test
    void promptsFileRunsEveryLineThroughOneEngineInOrderWithPerLineErrors() throws Exception {
        Path file = root.resolve("prompts.jsonl");
        Files.writeString(file, String.join("\n",
                "{\"prompt_ids\": [5, 17, 42], \"max_tokens\": 4}",
                "{\"prompt\": \"the quick brown fox\", \"max_tokens\": 3, \"temperature\": 0.7, \"seed\": 9}",
                "not json",
                "{\"prompt_ids\": [5, 17, 42], \"max_tokens\": 4, \"top_p\": 7}",
                "{\"prompt_ids\": [1], \"max_tokns\": 4}",
                "",
                "{\"prompt\": \"hi\", \"chat\": true, \"max_tokens\": 2, \"logprobs\": 2}",
                "{\"prompt_ids\": [5, 17, 42], \"max_tokens\": 4}") + "\n");
        Run r = run("generate", "--model", model.toString(), "--prompts-file", file.toString(), "--temperature", "0",
                "--max-batched-tokens", "8", "--kv-blocks", "20", "--block-size", "4", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().trim().split("\n");
        assertThat(lines).hasSize(7);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines[0]);
        JsonNode last = json.readTree(lines[6]);
        assertThat(first.get("id").asText()).isEqualTo("line-1");
        assertThat(first.get("token_ids")).hasSize(4);
        // the same prompt later in the file: same greedy tokens, and its full blocks came from the prefix cache
        assertThat(last.get("token_ids")).isEqualTo(first.get("token_ids"));
        assertThat(json.readTree(lines[2]).get("error").asText()).contains("line 3").contains("not valid JSON");
        assertThat(json.readTree(lines[3]).get("error").asText()).contains("top_p").contains("7");
        assertThat(json.readTree(lines[4]).get("error").asText()).contains("max_tokns").contains("max_tokens");
        assertThat(json.readTree(lines[5]).get("logprobs")).hasSize(2);
        assertThat(r.err()).contains("prefix-cache hit rate");

        Run naive = run("generate", "--model", model.toString(), "--prompt-ids", "5,17,42", "--max-tokens", "4",
                "--temperature", "0", "--naive", "--json");
        assertThat(naive.json().get("token_ids")).isEqualTo(first.get("token_ids"));
    }

    @Test
    void picklesAreRefusedWithAClearMessage() throws Exception {
        Path dir = root.resolve("pickle");
        Files.createDirectories(dir);
        Files.copy(model.resolve("config.json"), dir.resolve("config.json"));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1, 2, 3});
        Run r = run("generate", "--model", dir.toString(), "--prompt-ids", "1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("pytorch_model.bin").containsIgnoringCase("safetensors");
    }

    @Test
    void modelsListsEveryRegisteredFamilyAndDevice() {
        Run r = run("models");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("text").contains("LlamaForCausalLM").contains("Qwen2ForCausalLM")
                .contains("llava").contains("LlavaForConditionalGeneration").contains("modalities: text, image")
                // the test class path's own family registers with one services line
                .contains("fake-vision").contains("FakeVisionForConditionalGeneration")
                .contains("cpu-reference  available").contains("cpu  available");
    }

    @Test
    void theDeviceWordChoosesTheBackendAndBothGiveTheSameTokens() throws Exception {
        Run simd = run("generate", "--model", model.toString(), "--prompt-ids", "5,17,42", "--max-tokens", "5",
                "--temperature", "0", "--device", "cpu", "--json");
        Run reference = run("generate", "--model", model.toString(), "--prompt-ids", "5,17,42", "--max-tokens", "5",
                "--temperature", "0", "--device", "cpu-reference", "--json");
        assertThat(simd.code()).as(simd.err()).isZero();
        assertThat(reference.code()).as(reference.err()).isZero();
        assertThat(simd.json().get("token_ids")).isEqualTo(reference.json().get("token_ids"));
        Run unknown = run("generate", "--model", model.toString(), "--prompt-ids", "5", "--device", "tpu:0");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("tpu").contains("cpu").contains("cpu-reference");
    }

    @Test
    void aSixteenBitKvCacheIsAnOption() throws Exception {
        Run bf16 = run("generate", "--model", model.toString(), "--prompt-ids", "5,17,42", "--max-tokens", "4",
                "--temperature", "0", "--kv-cache-dtype", "bf16", "--json");
        assertThat(bf16.code()).as(bf16.err()).isZero();
        assertThat(bf16.json().get("token_ids")).hasSize(4);
        Run bad = run("generate", "--model", model.toString(), "--prompt-ids", "5", "--kv-cache-dtype", "int4");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("kv_cache_dtype 'int4'").contains("bf16");
    }

    @Test
    void noPrefixWaitTurnsTheInFlightPrefixWaitOffWithTheSameTokens() throws Exception {
        String[] flag = {"generate", "--no-prefix-wait"};
        assertThat(GenerateCommand.engineConfig(CliArgs.parse(flag, 1, java.util.Set.of(), java.util.Set.of("no-prefix-wait")))
                .prefixWait()).isFalse();
        assertThat(GenerateCommand.engineConfig(CliArgs.parse(new String[] {"generate"}, 1, java.util.Set.of(),
                java.util.Set.of())).prefixWait()).as("default").isTrue();
        Path lines = root.resolve("shared-prefix.jsonl");
        Files.writeString(lines, "{\"prompt_ids\": [5,17,42,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,1]}\n"
                + "{\"prompt_ids\": [5,17,42,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,2]}\n");
        Run off = run("generate", "--model", model.toString(), "--prompts-file", lines.toString(), "--max-tokens", "4",
                "--temperature", "0", "--no-prefix-wait", "--json");
        Run on = run("generate", "--model", model.toString(), "--prompts-file", lines.toString(), "--max-tokens", "4",
                "--temperature", "0", "--json");
        assertThat(off.code()).as(off.err()).isZero();
        assertThat(on.code()).as(on.err()).isZero();
        assertThat(on.out().lines().map(l -> l.replaceAll("\"cached_tokens\":\\d+", "")).toList())
                .isEqualTo(off.out().lines().map(l -> l.replaceAll("\"cached_tokens\":\\d+", "")).toList());
    }

    @Test
    void tinyCheckpointWritesThroughTheFamilyThatOwnsTheArchitecture() throws Exception {
        Path out = root.resolve("fake");
        Run r = run("tiny-checkpoint", "--out", out.toString(), "--arch", "fake-vision");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readString(out.resolve("config.json"))).contains("FakeVisionForConditionalGeneration");
        Run unknown = run("tiny-checkpoint", "--out", out.toString(), "--arch", "gpt2");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("gpt2").contains("llama").contains("llava").contains("fake-vision");
    }
}
