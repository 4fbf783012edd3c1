package io.sparkmm.engine.checkpoint;

import io.sparkmm.engine.models.text.TinyCheckpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import io.sparkmm.kernels.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TinyCheckpointTest {

    @TempDir
    Path dir;

    static Stream<TinyCheckpoint.Spec> presets() {
        return Stream.of(TinyCheckpoint.Spec.llamaGqa(), TinyCheckpoint.Spec.qwen2().withDtype(DType.BF16),
                TinyCheckpoint.Spec.mistral().withDtype(DType.F16));
    }

    @ParameterizedTest
    @MethodSource("presets")
    void presetLoadsWithHfNamesShapesAndConfig(TinyCheckpoint.Spec s) {
        TinyCheckpoint.write(dir, s);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            ModelConfig c = ModelConfig.parse(ckpt.configJson(), null);
            assertThat(c.architecture()).isEqualTo(s.architecture().hfName);
            assertThat(c.modelType()).isEqualTo(s.architecture().modelType);
            assertThat(c.hiddenSize()).isEqualTo(s.hiddenSize());
            assertThat(c.intermediateSize()).isEqualTo(s.intermediateSize());
            assertThat(c.numLayers()).isEqualTo(s.numLayers());
            assertThat(c.numHeads()).isEqualTo(s.numHeads());
            assertThat(c.numKvHeads()).isEqualTo(s.numKvHeads());
            assertThat(c.headDim()).isEqualTo(s.headDim()).isBetween(8, 16);
            assertThat(c.vocabSize()).isEqualTo(TinyTokenizer.VOCAB_SIZE);
            assertThat(c.tieWordEmbeddings()).isEqualTo(s.tieWordEmbeddings());
            assertThat(c.ropeTheta()).isEqualTo(s.ropeTheta());
            assertThat(c.maxPositionEmbeddings()).isEqualTo(s.maxPositionEmbeddings());
            assertThat(c.bosTokenId()).isEqualTo(TinyTokenizer.END_OF_TEXT_ID);
            assertThat(c.eosTokenIds()).contains(TinyTokenizer.IM_END_ID);
            assertThat(ckpt.generationConfig().eosTokenIds())
                    .containsExactly(TinyTokenizer.IM_END_ID, TinyTokenizer.END_OF_TEXT_ID);

            int d = s.hiddenSize();
            int q = s.numHeads() * s.headDim();
            int kv = s.numKvHeads() * s.headDim();
            int ff = s.intermediateSize();
            int v = c.vocabSize();
            Set<String> expected = new TreeSet<>();
            expect(ckpt, expected, "model.embed_tokens.weight", v, d);
            for (int i = 0; i < s.numLayers(); i++) {
                String p = "model.layers." + i + ".";
                expect(ckpt, expected, p + "input_layernorm.weight", d);
                expect(ckpt, expected, p + "self_attn.q_proj.weight", q, d);
                expect(ckpt, expected, p + "self_attn.k_proj.weight", kv, d);
                expect(ckpt, expected, p + "self_attn.v_proj.weight", kv, d);
                expect(ckpt, expected, p + "self_attn.o_proj.weight", d, q);
                if (c.qkvBias()) {
                    expect(ckpt, expected, p + "self_attn.q_proj.bias", q);
                    expect(ckpt, expected, p + "self_attn.k_proj.bias", kv);
                    expect(ckpt, expected, p + "self_attn.v_proj.bias", kv);
                }
                expect(ckpt, expected, p + "post_attention_layernorm.weight", d);
                expect(ckpt, expected, p + "mlp.gate_proj.weight", ff, d);
                expect(ckpt, expected, p + "mlp.up_proj.weight", ff, d);
                expect(ckpt, expected, p + "mlp.down_proj.weight", d, ff);
            }
            expect(ckpt, expected, "model.norm.weight", d);
            if (!c.tieWordEmbeddings()) {
                expect(ckpt, expected, "lm_head.weight", v, d);
            }
            assertThat(ckpt.tensorNames()).containsExactlyElementsOf(expected);
            for (String name : expected) {
                assertThat(ckpt.tensor(name).dtype()).isEqualTo(s.dtype());
            }
        }
    }

    private static void expect(Checkpoint ckpt, Set<String> names, String name, int... shape) {
        ckpt.tensor(name).requireShape(shape);
        names.add(name);
    }

    @Test
    void configJsonLooksLikeTransformersOutput() throws IOException {
        TinyCheckpoint.write(dir, TinyCheckpoint.Spec.llamaGqa().withDtype(DType.BF16)
                .withRopeScaling(new RopeScaling("llama3", 8.0, 1.0, 4.0, 512)));
        JsonNode c = JsonFields.MAPPER.readTree(dir.resolve("config.json").toFile());
        assertThat(c.get("architectures").toString()).isEqualTo("[\"LlamaForCausalLM\"]");
        assertThat(c.get("torch_dtype").asText()).isEqualTo("bfloat16");
        assertThat(c.get("eos_token_id").isArray()).isTrue();
        List<String> keys = new java.util.ArrayList<>();
        c.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).isSorted();
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertThat(ModelConfig.parse(ckpt.configJson(), null).ropeScaling()).isEqualTo(new RopeScaling("llama3", 8.0, 1.0, 4.0, 512));
        }
    }

    @Test
    void weightsAreDeterministicInTheSeed() throws IOException {
        Path a = TinyCheckpoint.write(dir.resolve("a"), TinyCheckpoint.Spec.qwen2());
        Path b = TinyCheckpoint.write(dir.resolve("b"), TinyCheckpoint.Spec.qwen2());
        Path c = TinyCheckpoint.write(dir.resolve("c"), TinyCheckpoint.Spec.qwen2().withSeed(99));
        byte[] wa = Files.readAllBytes(a.resolve("model.safetensors"));
        assertThat(Files.readAllBytes(b.resolve("model.safetensors"))).isEqualTo(wa);
        assertThat(Files.readAllBytes(c.resolve("model.safetensors"))).isNotEqualTo(wa);
        assertThat(Files.readString(a.resolve("tokenizer.json"))).isEqualTo(Files.readString(c.resolve("tokenizer.json")));
    }

    @Test
    void weightScalesGiveVariedNonTinyLogits() {
        // Proxy for "greedy output varies with the prompt": the next-token argmax of the embedding ->
        // final norm -> head path alone must differ between tokens and have a spread of a few units.
        TinyCheckpoint.Spec s = TinyCheckpoint.Spec.llamaGqa();
        TinyCheckpoint.write(dir, s);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            int d = s.hiddenSize();
            int v = ModelConfig.parse(ckpt.configJson(), null).vocabSize();
            float[] emb = Fixtures.decode(ckpt.tensor("model.embed_tokens.weight"));
            float[] head = Fixtures.decode(ckpt.tensor("lm_head.weight"));
            float[] norm = Fixtures.decode(ckpt.tensor("model.norm.weight"));
            assertThat(std(head)).isBetween(0.8 * 3 / Math.sqrt(d), 1.2 * 3 / Math.sqrt(d));
            assertThat(std(emb)).isBetween(0.9, 1.1);
            assertThat(mean(norm)).isBetween(0.9, 1.1);
            Set<Integer> argmaxes = new HashSet<>();
            double spread = 0;
            for (int t = 0; t < v; t++) {
                double ms = 0;
                for (int j = 0; j < d; j++) {
                    ms += emb[t * d + j] * emb[t * d + j];
                }
                double inv = 1 / Math.sqrt(ms / d + 1e-6);
                double[] logits = new double[v];
                int best = 0;
                for (int o = 0; o < v; o++) {
                    double acc = 0;
                    for (int j = 0; j < d; j++) {
                        acc += emb[t * d + j] * inv * norm[j] * head[o * d + j];
                    }
                    logits[o] = acc;
                    best = acc > logits[best] ? o : best;
                }
                argmaxes.add(best);
                spread += std(logits);
            }
            assertThat(argmaxes.size()).isGreaterThan(v / 4);
            assertThat(spread / v).isBetween(1.5, 5.0);
        }
    }

    @Test
    void djlLoadsTheTokenizerAndRoundTripsText() throws IOException {
        TinyCheckpoint.write(dir, TinyCheckpoint.Spec.qwen2());
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"))) {
            for (String text : List.of("The cat is sitting on the table.",
                    "  leading spaces, tabs\tand\nnew lines  ",
                    "Grüße aus Köln — naïve café, 東京の天気は晴れ, emoji 🙂👍🏽, Ω≈ç√",
                    "")) {
                long[] ids = tok.encode(text).getIds();
                assertThat(tok.decode(ids, false)).as("round trip of %s", text).isEqualTo(text);
                for (long id : ids) {
                    assertThat(id).isBetween(0L, (long) TinyTokenizer.END_OF_TEXT_ID - 1);
                }
            }
            String english = "The user asks the assistant to describe the image.";
            assertThat(tok.encode(english).getIds().length)
                    .as("learned merges compress common English")
                    .isLessThan(english.length() / 2);

            String chat = "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n";
            long[] ids = tok.encode(chat).getIds();
            assertThat(ids[0]).isEqualTo(TinyTokenizer.IM_START_ID);
            assertThat(ids).contains(TinyTokenizer.IM_END_ID);
            assertThat(tok.decode(ids, false)).isEqualTo(chat);
            assertThat(tok.decode(new long[] {TinyTokenizer.END_OF_TEXT_ID}, false)).isEqualTo("<|endoftext|>");
        }
        // Loading by directory, as a user would point at a model folder, works too.
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir)) {
            assertThat(tok.decode(tok.encode("hello world").getIds(), false)).isEqualTo("hello world");
        }
    }

    @Test
    void tokenizerConfigCarriesChatTemplateAndSpecials() throws IOException {
        TinyCheckpoint.write(dir, TinyCheckpoint.Spec.mistral());
        JsonNode tc = JsonFields.MAPPER.readTree(dir.resolve("tokenizer_config.json").toFile());
        assertThat(tc.get("eos_token").asText()).isEqualTo("<|im_end|>");
        assertThat(tc.get("added_tokens_decoder").get(String.valueOf(TinyTokenizer.IM_START_ID))
                .get("content").asText()).isEqualTo("<|im_start|>");
        String rendered = new Jinjava().render(tc.get("chat_template").asText(), Map.of(
                "messages", List.of(Map.of("role", "system", "content", "Be brief."),
                        Map.of("role", "user", "content", "Hi")),
                "add_generation_prompt", true));
        assertThat(rendered).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void commandLineWritesACheckpoint() {
        Path out = dir.resolve("cli");
        TinyCheckpoint.main(new String[] {"--out", out.toString(), "--arch", "qwen2", "--dtype", "bf16", "--seed", "7"});
        try (Checkpoint ckpt = Checkpoint.open(out)) {
            assertThat(ModelConfig.parse(ckpt.configJson(), null).architecture()).isEqualTo("Qwen2ForCausalLM");
            assertThat(ckpt.tensor("model.norm.weight").dtype()).isEqualTo(DType.BF16);
        }
    }

    private static double mean(float[] x) {
        double s = 0;
        for (float f : x) {
            s += f;
        }
        return s / x.length;
    }

    private static double std(float[] x) {
        double m = mean(x);
        double s = 0;
        for (float f : x) {
            s += (f - m) * (f - m);
        }
        return Math.sqrt(s / x.length);
    }

    private static double std(double[] x) {
        double m = 0;
        for (double f : x) {
            m += f;
        }
        m /= x.length;
        double s = 0;
        for (double f : x) {
            s += (f - m) * (f - m);
        }
        return Math.sqrt(s / x.length);
    }
}
