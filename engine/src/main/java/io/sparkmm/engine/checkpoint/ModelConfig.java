package io.sparkmm.engine.checkpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The decoder-only text model described by a Hugging Face {@code config.json}, with Hugging Face's
 * own defaults and derived values applied, so model code never looks at JSON.
 *
 * <p>Semantics follow transformers' config and model classes:
 * <ul>
 *   <li>{@code headDim} is {@code head_dim} when present and not null, else
 *       {@code hidden_size / num_attention_heads}.</li>
 *   <li>{@code numKvHeads} is {@code num_key_value_heads}; when the key is null it is the number of
 *       attention heads; when absent it is the config class's default (Mistral's is 8, the others
 *       use the number of heads).</li>
 *   <li>Biases: Llama's {@code attention_bias} covers q, k, v and o, {@code mlp_bias} the MLP;
 *       Qwen2 always has q/k/v biases and never o/MLP biases (hard-wired in its modeling code, not
 *       in the config); Mistral has none.</li>
 *   <li>{@code ropeScaling} is null when there is none or its type is "default", so model code
 *       only has to test for null.</li>
 *   <li>{@code eosTokenIds} is {@code eos_token_id} as a list (HF allows one int or a list), empty
 *       when absent.</li>
 * </ul>
 * Mistral's {@code sliding_window} is not represented: we compute full attention, which equals
 * sliding-window attention only for sequences no longer than the window.
 */
public record ModelConfig(String architecture, String modelType, int hiddenSize, int intermediateSize,
                          int numLayers, int numHeads, int numKvHeads, int headDim, int vocabSize,
                          float rmsNormEps, double ropeTheta, RopeScaling ropeScaling,
                          boolean tieWordEmbeddings, boolean qkvBias, boolean oBias, boolean mlpBias,
                          int maxPositionEmbeddings, String hiddenAct, Integer bosTokenId,
                          List<Integer> eosTokenIds) {

    public ModelConfig {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    }

    /**
     * Defaults of each supported config class (transformers' LlamaConfig, Qwen2Config,
     * MistralConfig), used for keys a config.json leaves out.
     */
    private enum Family {
        LLAMA("LlamaForCausalLM", "llama", 32000, 4096, 11008, 32, 32, null, 2048, 1e-6, 1, List.of(2)),
        QWEN2("Qwen2ForCausalLM", "qwen2", 151936, 4096, 22016, 32, 32, 32, 32768, 1e-6, null, List.of()),
        MISTRAL("MistralForCausalLM", "mistral", 32000, 4096, 14336, 32, 32, 8, 4096 * 32, 1e-6, 1, List.of(2));

        final String architecture;
        final String modelType;
        final int vocab;
        final int hidden;
        final int intermediate;
        final int layers;
        final int heads;
        final Integer kvHeads; // null: same as heads
        final int maxPositions;
        final double rmsNormEps;
        final Integer bos;
        final List<Integer> eos;

        Family(String architecture, String modelType, int vocab, int hidden, int intermediate, int layers,
               int heads, Integer kvHeads, int maxPositions, double rmsNormEps, Integer bos, List<Integer> eos) {
            this.architecture = architecture;
            this.modelType = modelType;
            this.vocab = vocab;
            this.hidden = hidden;
            this.intermediate = intermediate;
            this.layers = layers;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.maxPositions = maxPositions;
            this.rmsNormEps = rmsNormEps;
            this.bos = bos;
            this.eos = eos;
        }
    }

    /** The architectures ({@code config.json} "architectures") we can run. */
    public static final List<String> SUPPORTED_ARCHITECTURES =
            List.of(Family.LLAMA.architecture, Family.QWEN2.architecture, Family.MISTRAL.architecture);

    /** Reads and validates {@code config.json}; every error names the file and the key. */
    public static ModelConfig parse(Path configJson) {
        return parse(JsonFields.read(configJson), null);
    }

    /**
     * Parses one text-model config object: the whole {@code config.json} of a causal LM, or the
     * nested {@code text_config} of a multimodal model (then errors name {@code text_config.key}).
     *
     * @param defaultModelType the model_type to assume when the object has neither "architectures"
     *                         nor "model_type" (LlavaConfig assumes "llama"); null: that is an error
     */
    public static ModelConfig parse(JsonFields f, String defaultModelType) {
        Family family = family(f, defaultModelType);

        int hidden = positive(f, "hidden_size", f.intOr("hidden_size", family.hidden));
        int intermediate = positive(f, "intermediate_size", f.intOr("intermediate_size", family.intermediate));
        int layers = positive(f, "num_hidden_layers", f.intOr("num_hidden_layers", family.layers));
        int heads = positive(f, "num_attention_heads", f.intOr("num_attention_heads", family.heads));
        // Absent: the class default; explicit null: "same as heads" (HF's backward-compatibility rule).
        Integer kvDefault = family.kvHeads == null ? Integer.valueOf(heads) : family.kvHeads;
        int kvHeads = f.node().has("num_key_value_heads")
                ? f.intOr("num_key_value_heads", heads) : kvDefault;
        positive(f, "num_key_value_heads", kvHeads);
        if (heads % kvHeads != 0) {
            throw f.invalid("num_key_value_heads", kvHeads,
                    "num_attention_heads (" + heads + ") must be a multiple of it");
        }
        int headDim;
        if (f.has("head_dim")) {
            headDim = positive(f, "head_dim", f.intOr("head_dim", 0));
        } else {
            if (hidden % heads != 0) {
                throw f.invalid("hidden_size", hidden, "not divisible by num_attention_heads (" + heads
                        + ") and no head_dim is given");
            }
            headDim = hidden / heads;
        }
        if (headDim % 2 != 0) {
            // rotate_half pairs element i with i + headDim/2.
            throw f.invalid("head_dim", headDim, "rotary embeddings need an even head dimension");
        }
        int vocab = positive(f, "vocab_size", f.intOr("vocab_size", family.vocab));
        int maxPositions = positive(f, "max_position_embeddings",
                f.intOr("max_position_embeddings", family.maxPositions));

        double eps = f.doubleOr("rms_norm_eps", family.rmsNormEps);
        if (!(eps > 0)) {
            throw f.invalid("rms_norm_eps", eps, "must be > 0");
        }

        // transformers >= 5 writes {"rope_parameters": {"rope_theta": .., "rope_type": ..}} instead of
        // top-level rope_theta + rope_scaling; accept both so either generation of files loads.
        JsonFields ropeParameters = f.object("rope_parameters");
        double ropeTheta = f.doubleOr("rope_theta",
                ropeParameters != null ? ropeParameters.doubleOr("rope_theta", 10000.0) : 10000.0);
        if (!(ropeTheta > 0)) {
            throw f.invalid("rope_theta", ropeTheta, "must be > 0");
        }
        JsonFields ropeNode = f.object("rope_scaling");
        if (ropeNode == null) {
            ropeNode = ropeParameters;
        }
        RopeScaling rope = ropeNode == null ? null : RopeScaling.parse(ropeNode, maxPositions);
        if (rope != null && rope.type().equals("default")) {
            rope = null;
        }

        boolean qkvBias;
        boolean oBias;
        boolean mlpBias;
        switch (family) {
            case LLAMA:
                qkvBias = f.boolOr("attention_bias", false);
                oBias = qkvBias;
                mlpBias = f.boolOr("mlp_bias", false);
                break;
            case QWEN2:
                qkvBias = true;
                oBias = false;
                mlpBias = false;
                break;
            default:
                qkvBias = false;
                oBias = false;
                mlpBias = false;
        }

        return new ModelConfig(family.architecture, f.stringOr("model_type", family.modelType), hidden,
                intermediate, layers, heads, kvHeads, headDim, vocab, (float) eps, ropeTheta, rope,
                f.boolOr("tie_word_embeddings", false), qkvBias, oBias, mlpBias, maxPositions,
                f.stringOr("hidden_act", "silu"),
                f.node().has("bos_token_id") ? f.intOrNull("bos_token_id") : family.bos,
                f.intListOr("eos_token_id", f.node().has("eos_token_id") ? List.of() : family.eos));
    }

    /**
     * The family from "architectures" (its first entry, as transformers does), or from
     * "model_type" when a config has no architectures list.
     */
    private static Family family(JsonFields f, String defaultModelType) {
        var archs = f.node().get("architectures");
        String arch;
        if (archs != null && !archs.isNull()) {
            if (!archs.isArray() || archs.isEmpty() || !archs.get(0).isTextual()) {
                throw f.bad("architectures", archs, "a non-empty list of strings");
            }
            arch = archs.get(0).asText();
        } else {
            String modelType = f.stringOr("model_type", defaultModelType);
            Map<String, Family> byType = Map.of("llama", Family.LLAMA, "qwen2", Family.QWEN2,
                    "mistral", Family.MISTRAL);
            if (modelType == null || !byType.containsKey(modelType)) {
                throw new CheckpointException(f.file() + ": no \"" + f.path("architectures") + "\" and "
                        + f.path("model_type") + " "
                        + (modelType == null ? "missing" : "\"" + modelType + "\"")
                        + "; supported architectures: " + String.join(", ", SUPPORTED_ARCHITECTURES));
            }
            return byType.get(modelType);
        }
        for (Family fam : Family.values()) {
            if (fam.architecture.equals(arch)) {
                return fam;
            }
        }
        String where = f.path("architectures").equals("architectures") ? "" : " in " + f.path("architectures");
        throw new CheckpointException(f.file() + ": unsupported architecture \"" + arch + "\"" + where
                + "; supported: " + String.join(", ", SUPPORTED_ARCHITECTURES));
    }

    private static int positive(JsonFields f, String key, int value) {
        if (value <= 0) {
            throw f.invalid(key, value, "must be > 0");
        }
        return value;
    }
}
