package io.sparkmm.engine.models.text;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.checkpoint.TinyTokenizer;
import io.sparkmm.engine.checkpoint.RopeScaling;
import io.sparkmm.engine.models.text.TinyCheckpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.kernels.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Writes tiny random checkpoints in the real Hugging Face layout (config.json,
 * generation_config.json, model.safetensors with HF parameter names, tokenizer.json,
 * tokenizer_config.json), so tests and demos load models through exactly the code path a user's
 * downloaded model takes. No weights can be downloaded here; these stand in for them.
 *
 * <p>Weights are deterministic in the seed (each tensor has its own stream, derived from the seed
 * and the tensor's name) and scaled so the model is not degenerate: projections have std
 * 1/sqrt(fan_in), which keeps every layer's output around unit size; the output head has std
 * 3/sqrt(hidden), which gives logits a spread of a few units, so greedy choices differ across
 * prompts and rarely sit on near-ties that a BF16 rounding could flip.
 *
 * <p>From the command line: {@code TinyCheckpoint --out DIR [--arch llama|qwen2|mistral]
 * [--dtype f32|bf16|f16] [--seed N]}.
 */
public final class TinyCheckpoint {

    /** The supported families, with their Hugging Face names. */
    public enum Architecture {
        LLAMA("LlamaForCausalLM", "llama"),
        QWEN2("Qwen2ForCausalLM", "qwen2"),
        MISTRAL("MistralForCausalLM", "mistral");

        public final String hfName;
        public final String modelType;

        Architecture(String hfName, String modelType) {
            this.hfName = hfName;
            this.modelType = modelType;
        }
    }

    /**
     * What to write. The vocabulary is {@link TinyTokenizer}'s, so it is not a field. Head dim is
     * hiddenSize / numHeads. {@code ropeScaling} may be null.
     */
    public record Spec(Architecture architecture, int hiddenSize, int intermediateSize, int numLayers,
                       int numHeads, int numKvHeads, boolean tieWordEmbeddings, DType dtype, long seed,
                       int maxPositionEmbeddings, double ropeTheta, RopeScaling ropeScaling) {

        public Spec {
            if (architecture == null || dtype == null) {
                throw new IllegalArgumentException("architecture and dtype are required");
            }
            if (hiddenSize <= 0 || intermediateSize <= 0 || numLayers <= 0 || numHeads <= 0 || numKvHeads <= 0
                    || maxPositionEmbeddings <= 0 || !(ropeTheta > 0)) {
                throw new IllegalArgumentException("sizes and rope theta must be positive: " + this);
            }
            if (hiddenSize % numHeads != 0 || (hiddenSize / numHeads) % 2 != 0 || numHeads % numKvHeads != 0) {
                throw new IllegalArgumentException("need hidden % heads == 0, an even head dim and heads % kvHeads == 0: "
                        + this);
            }
        }

        /** Llama with grouped-query attention: 4 query heads sharing 2 KV heads, head dim 16. */
        public static Spec llamaGqa() {
            return new Spec(Architecture.LLAMA, 64, 160, 2, 4, 2, false, DType.F32, 1, 2048, 10000.0, null);
        }

        /** Qwen2: q/k/v biases and tied embeddings, head dim 12. */
        public static Spec qwen2() {
            return new Spec(Architecture.QWEN2, 48, 128, 2, 4, 2, true, DType.F32, 2, 4096, 1000000.0, null);
        }

        /** Mistral: multi-query attention (1 KV head), head dim 8. */
        public static Spec mistral() {
            return new Spec(Architecture.MISTRAL, 32, 96, 2, 4, 1, false, DType.F32, 3, 4096, 1000000.0, null);
        }

        public Spec withDtype(DType d) {
            return new Spec(architecture, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                    tieWordEmbeddings, d, seed, maxPositionEmbeddings, ropeTheta, ropeScaling);
        }

        public Spec withSeed(long s) {
            return new Spec(architecture, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                    tieWordEmbeddings, dtype, s, maxPositionEmbeddings, ropeTheta, ropeScaling);
        }

        public Spec withTieWordEmbeddings(boolean tie) {
            return new Spec(architecture, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                    tie, dtype, seed, maxPositionEmbeddings, ropeTheta, ropeScaling);
        }

        public Spec withRopeScaling(RopeScaling r) {
            return new Spec(architecture, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                    tieWordEmbeddings, dtype, seed, maxPositionEmbeddings, ropeTheta, r);
        }

        public int headDim() {
            return hiddenSize / numHeads;
        }

        public int vocabSize() {
            return TinyTokenizer.VOCAB_SIZE;
        }
    }

    private TinyCheckpoint() {
    }

    /** Writes the checkpoint into {@code dir} (created if needed; existing files are replaced). */
    public static Path write(Path dir, Spec spec) {
        return writeFiles(dir, Map.of(
                Checkpoint.CONFIG, configJson(spec),
                GenerationConfig.FILE_NAME, generationConfigJson(),
                "tokenizer.json", TinyTokenizer.tokenizerJson(),
                "tokenizer_config.json", TinyTokenizer.tokenizerConfigJson(spec.maxPositionEmbeddings())),
                weights(spec));
    }

    /**
     * Writes a single-file checkpoint into {@code dir} (created if needed; existing files are replaced):
     * each JSON file (name to content) and {@code weights} as {@link Checkpoint#SINGLE_FILE}.
     */
    public static Path writeFiles(Path dir, Map<String, ObjectNode> json, SafetensorsWriter weights) {
        try {
            Files.createDirectories(dir);
            // A stale index from an earlier sharded checkpoint here would win over our single file.
            Files.deleteIfExists(dir.resolve(Checkpoint.INDEX));
            for (Map.Entry<String, ObjectNode> file : json.entrySet()) {
                writeJson(dir.resolve(file.getKey()), file.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint to " + dir, e);
        }
        weights.write(dir.resolve(Checkpoint.SINGLE_FILE));
        return dir;
    }

    /** {@code chat_template.json}, the processor's own copy of the template as Hub repositories ship it. */
    public static ObjectNode chatTemplateJson(String template) {
        ObjectNode chat = JsonFields.MAPPER.createObjectNode();
        chat.put("chat_template", template);
        return chat;
    }

    /** The weights, with exactly Hugging Face's parameter names and shapes (Linear: [out, in]). */
    static SafetensorsWriter weights(Spec s) {
        SafetensorsWriter w = new SafetensorsWriter();
        textWeights(w, s, s.vocabSize(), "model.", "lm_head.weight");
        return w;
    }

    /**
     * Adds a decoder's weights with its body under {@code prefix} ("model." for a causal LM,
     * "model.language_model." inside LLaVA) and its untied head as {@code lmHeadName}.
     */
    public static void textWeights(SafetensorsWriter w, Spec s, int vocab, String prefix, String lmHeadName) {
        int d = s.hiddenSize();
        int q = s.numHeads() * s.headDim();
        int kv = s.numKvHeads() * s.headDim();
        int ff = s.intermediateSize();
        double head = 3.0 / Math.sqrt(d);
        // Tied: the embedding is also the output head, so it gets the head's scale.
        normal(w, s, prefix + "embed_tokens.weight", s.tieWordEmbeddings() ? head : 1.0, vocab, d);
        for (int i = 0; i < s.numLayers(); i++) {
            String p = prefix + "layers." + i + ".";
            norm(w, s, p + "input_layernorm.weight", d);
            linear(w, s, p + "self_attn.q_proj", q, d);
            linear(w, s, p + "self_attn.k_proj", kv, d);
            linear(w, s, p + "self_attn.v_proj", kv, d);
            linear(w, s, p + "self_attn.o_proj", d, q);
            if (s.architecture() == Architecture.QWEN2) {
                normal(w, s, p + "self_attn.q_proj.bias", 0.2, q);
                normal(w, s, p + "self_attn.k_proj.bias", 0.2, kv);
                normal(w, s, p + "self_attn.v_proj.bias", 0.2, kv);
            }
            norm(w, s, p + "post_attention_layernorm.weight", d);
            linear(w, s, p + "mlp.gate_proj", ff, d);
            linear(w, s, p + "mlp.up_proj", ff, d);
            linear(w, s, p + "mlp.down_proj", d, ff);
        }
        norm(w, s, prefix + "norm.weight", d);
        if (!s.tieWordEmbeddings()) {
            normal(w, s, lmHeadName, head, vocab, d);
        }
    }

    public static void linear(SafetensorsWriter w, Spec s, String prefix, int out, int in) {
        normal(w, s, prefix + ".weight", 1.0 / Math.sqrt(in), out, in);
    }

    /** A linear layer's weight and, with {@code bias}, its bias (std 0.1, so a missing bias shows). */
    public static void linear(SafetensorsWriter w, Spec s, String prefix, int out, int in, boolean bias) {
        linear(w, s, prefix, out, in);
        if (bias) {
            normal(w, s, prefix + ".bias", 0.1, out);
        }
    }

    /** A LayerNorm's weight (near 1) and bias (std 0.1). */
    public static void layerNorm(SafetensorsWriter w, Spec s, String prefix, int d) {
        norm(w, s, prefix + ".weight", d);
        normal(w, s, prefix + ".bias", 0.1, d);
    }

    /**
     * A CLIP / SigLIP vision encoder layer under {@code prefix} (ending in '.'): {@code layer_norm1},
     * {@code self_attn.{q,k,v,out}_proj}, {@code layer_norm2}, {@code mlp.fc1}, {@code mlp.fc2}, all biased.
     */
    public static void clipEncoderLayer(SafetensorsWriter w, Spec s, String prefix, int d, int mlp) {
        layerNorm(w, s, prefix + "layer_norm1", d);
        for (String proj : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
            linear(w, s, prefix + "self_attn." + proj, d, d, true);
        }
        layerNorm(w, s, prefix + "layer_norm2", d);
        linear(w, s, prefix + "mlp.fc1", mlp, d, true);
        linear(w, s, prefix + "mlp.fc2", d, mlp, true);
    }

    /** RMSNorm weights near 1 (HF initialises them to exactly 1; noise makes a missing weight visible). */
    public static void norm(SafetensorsWriter w, Spec s, String name, int d) {
        Random r = rng(s, name);
        float[] x = new float[d];
        for (int i = 0; i < d; i++) {
            x[i] = (float) (1.0 + 0.1 * r.nextGaussian());
        }
        w.add(name, s.dtype(), new int[] {d}, x);
    }

    public static void normal(SafetensorsWriter w, Spec s, String name, double std, int... shape) {
        Random r = rng(s, name);
        int n = 1;
        for (int dim : shape) {
            n *= dim;
        }
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (std * r.nextGaussian());
        }
        w.add(name, s.dtype(), shape, x);
    }

    /**
     * One stream per tensor, so changing a shape or adding a tensor leaves the others' values alone.
     * java.util.Random's algorithm (and nextGaussian's) is fixed by its specification, and
     * String.hashCode is too, so the bytes are the same on every JVM.
     */
    private static Random rng(Spec s, String name) {
        return new Random(s.seed() * 0x9E3779B97F4A7C15L + name.hashCode());
    }

    /** config.json as transformers writes it: keys sorted, every field of the config class. */
    public static ObjectNode configJson(Spec s) {
        ObjectNode c = JsonFields.MAPPER.createObjectNode();
        c.putArray("architectures").add(s.architecture().hfName);
        if (s.architecture() == Architecture.LLAMA) {
            c.put("attention_bias", false);
        }
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", TinyTokenizer.END_OF_TEXT_ID);
        if (s.architecture() == Architecture.LLAMA) {
            // Llama 3 instruct style: a list; the others write a single id, as Qwen2/Mistral do.
            c.putArray("eos_token_id").add(TinyTokenizer.IM_END_ID).add(TinyTokenizer.END_OF_TEXT_ID);
        } else {
            c.put("eos_token_id", TinyTokenizer.IM_END_ID);
        }
        if (s.architecture() != Architecture.QWEN2) {
            c.put("head_dim", s.headDim());
        }
        c.put("hidden_act", "silu");
        c.put("hidden_size", s.hiddenSize());
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", s.intermediateSize());
        c.put("max_position_embeddings", s.maxPositionEmbeddings());
        if (s.architecture() == Architecture.QWEN2) {
            c.put("max_window_layers", s.numLayers());
        }
        if (s.architecture() == Architecture.LLAMA) {
            c.put("mlp_bias", false);
        }
        c.put("model_type", s.architecture().modelType);
        c.put("num_attention_heads", s.numHeads());
        c.put("num_hidden_layers", s.numLayers());
        c.put("num_key_value_heads", s.numKvHeads());
        if (s.architecture() == Architecture.LLAMA) {
            c.put("pretraining_tp", 1);
        }
        c.put("rms_norm_eps", 1e-6);
        RopeScaling r = s.ropeScaling();
        if (r == null || r.type().equals("default")) {
            c.putNull("rope_scaling");
        } else {
            ObjectNode rs = c.putObject("rope_scaling");
            rs.put("factor", r.factor());
            if (r.type().equals("llama3")) {
                rs.put("high_freq_factor", r.highFreqFactor());
                rs.put("low_freq_factor", r.lowFreqFactor());
                rs.put("original_max_position_embeddings", r.originalMaxPositionEmbeddings());
            }
            rs.put("rope_type", r.type());
        }
        c.put("rope_theta", s.ropeTheta());
        if (s.architecture() != Architecture.LLAMA) {
            // Full attention; sliding windows are not modelled (see ModelConfig).
            c.putNull("sliding_window");
        }
        c.put("tie_word_embeddings", s.tieWordEmbeddings());
        c.put("torch_dtype", switch (s.dtype()) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        });
        c.put("use_cache", true);
        if (s.architecture() == Architecture.QWEN2) {
            c.put("use_sliding_window", false);
        }
        c.put("vocab_size", s.vocabSize());
        return c;
    }

    public static ObjectNode generationConfigJson() {
        ObjectNode g = JsonFields.MAPPER.createObjectNode();
        g.put("bos_token_id", TinyTokenizer.END_OF_TEXT_ID);
        g.put("do_sample", false);
        g.putArray("eos_token_id").add(TinyTokenizer.IM_END_ID).add(TinyTokenizer.END_OF_TEXT_ID);
        g.put("pad_token_id", TinyTokenizer.END_OF_TEXT_ID);
        return g;
    }

    public static void writeJson(Path file, ObjectNode node) throws IOException {
        Files.writeString(file, JsonFields.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
    }

    /** The {@code tiny-checkpoint} command; kept so the writer runs on its own ({@code --out DIR [--arch ...]}). */
    public static void main(String[] args) {
        io.sparkmm.engine.cli.TinyCheckpointCommand.main(args);
    }

    /** The spec of a text {@code --arch} word (llama, qwen2, mistral), or null. */
    public static Spec specFor(String arch) {
        return switch (arch) {
            case "llama" -> Spec.llamaGqa();
            case "qwen2" -> Spec.qwen2();
            case "mistral" -> Spec.mistral();
            default -> null;
        };
    }
}
