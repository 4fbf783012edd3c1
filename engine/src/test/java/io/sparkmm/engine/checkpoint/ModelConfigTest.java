package io.sparkmm.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json texts modelled on real Hugging Face checkpoints. */
class ModelConfigTest {

    @TempDir
    Path dir;

    private ModelConfig parse(String json) {
        return ModelConfig.parse(Fixtures.write(dir.resolve("config.json"), json));
    }

    @Test
    void llama32Style() {
        // As meta-llama/Llama-3.2-1B-Instruct: llama3 rope scaling, explicit head_dim, eos list, tied.
        ModelConfig c = parse("""
                {
                  "architectures": ["LlamaForCausalLM"],
                  "attention_bias": false,
                  "attention_dropout": 0.0,
                  "bos_token_id": 128000,
                  "eos_token_id": [128001, 128008, 128009],
                  "head_dim": 64,
                  "hidden_act": "silu",
                  "hidden_size": 2048,
                  "initializer_range": 0.02,
                  "intermediate_size": 8192,
                  "max_position_embeddings": 131072,
                  "mlp_bias": false,
                  "model_type": "llama",
                  "num_attention_heads": 32,
                  "num_hidden_layers": 16,
                  "num_key_value_heads": 8,
                  "pretraining_tp": 1,
                  "rms_norm_eps": 1e-05,
                  "rope_scaling": {
                    "factor": 32.0,
                    "high_freq_factor": 4.0,
                    "low_freq_factor": 1.0,
                    "original_max_position_embeddings": 8192,
                    "rope_type": "llama3"
                  },
                  "rope_theta": 500000.0,
                  "tie_word_embeddings": true,
                  "torch_dtype": "bfloat16",
                  "transformers_version": "4.45.0.dev0",
                  "use_cache": true,
                  "vocab_size": 128256
                }
                """);
        assertThat(c).isEqualTo(new ModelConfig("LlamaForCausalLM", "llama", 2048, 8192, 16, 32, 8, 64, 128256,
                1e-5f, 500000.0, new RopeScaling("llama3", 32.0, 1.0, 4.0, 8192), true, false, false, false,
                131072, "silu", 128000, List.of(128001, 128008, 128009)));
    }

    @Test
    void headDimOverridesHiddenOverHeads() {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 4,
                 "head_dim": 32, "num_key_value_heads": null, "attention_bias": true, "mlp_bias": true}
                """);
        assertThat(c.headDim()).isEqualTo(32);
        assertThat(c.numKvHeads()).isEqualTo(4); // null means "same as heads"
        assertThat(c.qkvBias()).isTrue();
        assertThat(c.oBias()).isTrue();
        assertThat(c.mlpBias()).isTrue();
        // LlamaConfig defaults for what is absent.
        assertThat(c.vocabSize()).isEqualTo(32000);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6f);
        assertThat(c.ropeTheta()).isEqualTo(10000.0);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(2048);
        assertThat(c.bosTokenId()).isEqualTo(1);
        assertThat(c.eosTokenIds()).containsExactly(2);
        assertThat(c.tieWordEmbeddings()).isFalse();
        assertThat(c.ropeScaling()).isNull();
    }

    @Test
    void qwen25Style() {
        // As Qwen/Qwen2.5-0.5B-Instruct.
        ModelConfig c = parse("""
                {
                  "architectures": ["Qwen2ForCausalLM"],
                  "attention_dropout": 0.0,
                  "bos_token_id": 151643,
                  "eos_token_id": 151645,
                  "hidden_act": "silu",
                  "hidden_size": 896,
                  "initializer_range": 0.02,
                  "intermediate_size": 4864,
                  "max_position_embeddings": 32768,
                  "max_window_layers": 21,
                  "model_type": "qwen2",
                  "num_attention_heads": 14,
                  "num_hidden_layers": 24,
                  "num_key_value_heads": 2,
                  "rms_norm_eps": 1e-06,
                  "rope_scaling": null,
                  "rope_theta": 1000000.0,
                  "sliding_window": 32768,
                  "tie_word_embeddings": true,
                  "torch_dtype": "bfloat16",
                  "transformers_version": "4.43.1",
                  "use_cache": true,
                  "use_sliding_window": false,
                  "vocab_size": 151936
                }
                """);
        assertThat(c).isEqualTo(new ModelConfig("Qwen2ForCausalLM", "qwen2", 896, 4864, 24, 14, 2, 64, 151936,
                1e-6f, 1000000.0, null, true, true, false, false, 32768, "silu", 151643, List.of(151645)));
    }

    @Test
    void qwen2DefaultsHaveNoBosOrEos() {
        ModelConfig c = parse("{\"architectures\": [\"Qwen2ForCausalLM\"]}");
        assertThat(c.bosTokenId()).isNull();
        assertThat(c.eosTokenIds()).isEmpty();
        assertThat(c.numKvHeads()).isEqualTo(32);
        assertThat(c.vocabSize()).isEqualTo(151936);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(32768);
        assertThat(c.qkvBias()).isTrue();
        assertThat(c.oBias()).isFalse();
    }

    @Test
    void mistralStyle() {
        // As mistralai/Mistral-7B-Instruct-v0.3.
        ModelConfig c = parse("""
                {
                  "architectures": ["MistralForCausalLM"],
                  "attention_dropout": 0.0,
                  "bos_token_id": 1,
                  "eos_token_id": 2,
                  "hidden_act": "silu",
                  "hidden_size": 4096,
                  "initializer_range": 0.02,
                  "intermediate_size": 14336,
                  "max_position_embeddings": 32768,
                  "model_type": "mistral",
                  "num_attention_heads": 32,
                  "num_hidden_layers": 32,
                  "num_key_value_heads": 8,
                  "rms_norm_eps": 1e-05,
                  "rope_theta": 1000000.0,
                  "sliding_window": null,
                  "tie_word_embeddings": false,
                  "torch_dtype": "bfloat16",
                  "transformers_version": "4.42.0.dev0",
                  "use_cache": true,
                  "vocab_size": 32768
                }
                """);
        assertThat(c).isEqualTo(new ModelConfig("MistralForCausalLM", "mistral", 4096, 14336, 32, 32, 8, 128, 32768,
                1e-5f, 1000000.0, null, false, false, false, false, 32768, "silu", 1, List.of(2)));
    }

    @Test
    void mistralClassDefaults() {
        ModelConfig c = parse("{\"architectures\": [\"MistralForCausalLM\"], \"attention_bias\": true}");
        assertThat(c.numKvHeads()).isEqualTo(8);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6f);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(131072);
        assertThat(c.intermediateSize()).isEqualTo(14336);
        assertThat(c.qkvBias()).isFalse(); // Mistral has no biases whatever the file says
    }

    @Test
    void architectureFromModelTypeWhenListMissing() {
        assertThat(parse("{\"model_type\": \"qwen2\"}").architecture()).isEqualTo("Qwen2ForCausalLM");
    }

    @Test
    void legacyRopeTypeKeyAndLinearScaling() {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "max_position_embeddings": 4096,
                 "rope_scaling": {"type": "linear", "factor": 2.0}}
                """);
        assertThat(c.ropeScaling()).isEqualTo(new RopeScaling("linear", 2.0, 0, 0, 4096));
    }

    @Test
    void transformers5RopeParameters() {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"],
                 "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}}
                """);
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling()).isNull();
    }

    @Test
    void unsupportedRopeType() {
        assertThatThrownBy(() -> parse("""
                {"architectures": ["Qwen2ForCausalLM"],
                 "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}
                """))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("config.json").toString())
                .hasMessageContaining("\"yarn\"")
                .hasMessageContaining("default, linear, llama3");
    }

    @Test
    void llama3RopeNeedsAllItsKeys() {
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlamaForCausalLM"], "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}
                """))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("config.json")
                .hasMessageContaining("rope_scaling.low_freq_factor");
    }

    @Test
    void unknownArchitectureListsSupported() {
        assertThatThrownBy(() -> parse("{\"architectures\": [\"Gemma2ForCausalLM\"]}"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("config.json").toString())
                .hasMessageContaining("Gemma2ForCausalLM")
                .hasMessageContaining("LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM");
    }

    @Test
    void inconsistentHeadsAreRejected() {
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlamaForCausalLM"], "num_attention_heads": 6, "num_key_value_heads": 4,
                 "hidden_size": 48}
                """))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("num_key_value_heads");
        assertThatThrownBy(() -> parse("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 50, "
                + "\"num_attention_heads\": 4}"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("hidden_size");
    }

    @Test
    void duplicateKeysAreRejected() {
        assertThatThrownBy(() -> parse("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, "
                + "\"hidden_size\": 128}"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("hidden_size");
    }

    @Test
    void generationConfigReadsIntOrListAndDefaultsToNull() {
        GenerationConfig none = GenerationConfig.load(dir);
        assertThat(none).isEqualTo(new GenerationConfig(List.of(), null, null, null, null, null));
        Fixtures.write(dir.resolve("generation_config.json"), """
                {"bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643],
                 "pad_token_id": 151643, "repetition_penalty": 1.1, "temperature": 0.7, "top_k": 20, "top_p": 0.8}
                """);
        assertThat(GenerationConfig.load(dir)).isEqualTo(
                new GenerationConfig(List.of(151645, 151643), 151643, 151643, 0.7, 0.8, 20));
        Fixtures.write(dir.resolve("generation_config.json"), "{\"eos_token_id\": 2}");
        assertThat(GenerationConfig.load(dir).eosTokenIds()).containsExactly(2);
    }
}
