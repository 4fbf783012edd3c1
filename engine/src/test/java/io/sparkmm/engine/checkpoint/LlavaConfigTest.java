package io.sparkmm.engine.checkpoint;

import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
import io.sparkmm.engine.models.llava.LlavaConfig;
import io.sparkmm.engine.models.llava.ClipVisionConfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LLaVA config.json texts modelled on real Hugging Face checkpoints, defaults and errors. */
class LlavaConfigTest {

    @TempDir
    Path dir;

    private Path write(String json) {
        return Fixtures.write(dir.resolve("config.json"), json);
    }

    private LlavaConfig parse(String json) {
        return LlavaConfig.parse(write(json));
    }

    @Test
    void llava15StyleOlderFileReliesOnClassDefaults() {
        // As llava-hf/llava-1.5-7b-hf (transformers 4.36): sub-configs hold only non-default keys.
        LlavaConfig c = parse("""
                {
                  "architectures": ["LlavaForConditionalGeneration"],
                  "ignore_index": -100,
                  "image_token_index": 32000,
                  "model_type": "llava",
                  "pad_token_id": 32001,
                  "projector_hidden_act": "gelu",
                  "text_config": {
                    "_name_or_path": "lmsys/vicuna-7b-v1.5",
                    "architectures": ["LlamaForCausalLM"],
                    "max_position_embeddings": 4096,
                    "model_type": "llama",
                    "rms_norm_eps": 1e-05,
                    "torch_dtype": "float16",
                    "vocab_size": 32064
                  },
                  "tie_word_embeddings": false,
                  "torch_dtype": "float16",
                  "transformers_version": "4.36.0.dev0",
                  "vision_config": {
                    "hidden_size": 1024,
                    "image_size": 336,
                    "intermediate_size": 4096,
                    "model_type": "clip_vision_model",
                    "num_attention_heads": 16,
                    "num_hidden_layers": 24,
                    "patch_size": 14,
                    "projection_dim": 768,
                    "vocab_size": 32000
                  },
                  "vision_feature_layer": -2,
                  "vision_feature_select_strategy": "default",
                  "vocab_size": 32064
                }
                """);
        ModelConfig t = c.textConfig();
        assertThat(t.architecture()).isEqualTo("LlamaForCausalLM");
        assertThat(t.hiddenSize()).isEqualTo(4096);             // LlamaConfig default
        assertThat(t.numLayers()).isEqualTo(32);
        assertThat(t.intermediateSize()).isEqualTo(11008);
        assertThat(t.vocabSize()).isEqualTo(32064);
        assertThat(t.rmsNormEps()).isEqualTo(1e-5f);
        assertThat(c.visionConfig()).isEqualTo(new ClipVisionConfig("clip_vision_model", 1024, 4096, 24, 16, 336, 14,
                3, 1e-5f, "quick_gelu"));
        assertThat(c.imageTokenIndex()).isEqualTo(32000);
        assertThat(c.visionFeatureLayers()).containsExactly(-2);
        assertThat(c.featureLayerIndices()).containsExactly(23);
        assertThat(c.imageTokensPerImage()).isEqualTo(576);
        assertThat(c.multimodalProjectorBias()).isTrue();
        assertThat(c.projectorInputSize()).isEqualTo(1024);
        assertThat(c.imageSeqLength()).isNull();
    }

    @Test
    void bareConfigTakesLlavaConfigDefaults() {
        LlavaConfig c = parse("{\"architectures\": [\"LlavaForConditionalGeneration\"]}");
        assertThat(c.textConfig().architecture()).isEqualTo("LlamaForCausalLM");
        assertThat(c.textConfig().vocabSize()).isEqualTo(32000);
        assertThat(c.visionConfig()).isEqualTo(ClipVisionConfig.llavaDefault());
        assertThat(c.imageTokenIndex()).isEqualTo(32000);
        assertThat(c.projectorHiddenAct()).isEqualTo("gelu");
        assertThat(c.visionFeatureSelectStrategy()).isEqualTo("default");
        assertThat(c.visionFeatureLayers()).containsExactly(-2);
        assertThat(c.imageTokensPerImage()).isEqualTo(576);
    }

    @Test
    void newerKeysListLayersFullStrategyAndTextTypeFromModelType() {
        LlavaConfig c = parse("""
                {"model_type": "llava", "image_token_id": 151646, "vision_feature_layer": [-2, -5, 0],
                 "vision_feature_select_strategy": "full", "multimodal_projector_bias": false,
                 "projector_hidden_act": "gelu_pytorch_tanh", "image_seq_length": 577,
                 "text_config": {"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4,
                                 "num_key_value_heads": 2, "intermediate_size": 128, "num_hidden_layers": 2,
                                 "vocab_size": 151650},
                 "vision_config": {"hidden_size": 32, "num_attention_heads": 2, "num_hidden_layers": 6,
                                   "image_size": 28, "patch_size": 4, "hidden_act": "gelu"}}
                """);
        assertThat(c.textConfig().architecture()).isEqualTo("Qwen2ForCausalLM");
        assertThat(c.textConfig().qkvBias()).isTrue();
        assertThat(c.imageTokenIndex()).isEqualTo(151646);
        assertThat(c.featureLayerIsList()).isTrue();
        assertThat(c.featureLayerIndices()).containsExactly(5, 2, 0);
        assertThat(c.projectorInputSize()).isEqualTo(96);
        assertThat(c.imageTokensPerImage()).isEqualTo(49 + 1);
        assertThat(c.multimodalProjectorBias()).isFalse();
        assertThat(c.imageSeqLength()).isEqualTo(577);
        assertThat(c.visionConfig().intermediateSize()).isEqualTo(3072); // CLIPVisionConfig's own default
    }

    @Test
    void placeholderCountPerStrategy() {
        String base = "{\"architectures\": [\"LlavaForConditionalGeneration\"], \"vision_config\": "
                + "{\"image_size\": 30, \"patch_size\": 7}, \"vision_feature_select_strategy\": ";
        // 30 / 7 = 4 patches per side: the conv drops the 2-pixel remainder.
        assertThat(parse(base + "\"default\"}").imageTokensPerImage()).isEqualTo(16);
        assertThat(parse(base + "\"full\"}").imageTokensPerImage()).isEqualTo(17);
    }

    @Test
    void errorsNameTheFileAndKey() {
        String file = dir.resolve("config.json").toString();
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"], "vision_feature_select_strategy": "cls"}"""))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file).hasMessageContaining("vision_feature_select_strategy");
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"], "vision_feature_layer": -26}"""))
                .hasMessageContaining("vision_feature_layer").hasMessageContaining("25 hidden states");
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"], "vision_feature_layer": []}"""))
                .hasMessageContaining("vision_feature_layer");
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"],
                 "vision_config": {"model_type": "siglip_vision_model"}}"""))
                .hasMessageContaining("vision_config.model_type").hasMessageContaining("siglip_vision_model");
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"], "projector_hidden_act": "relu6"}"""))
                .hasMessageContaining("projector_hidden_act").hasMessageContaining("relu6");
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"], "vision_config": {"hidden_act": "foo"}}"""))
                .hasMessageContaining("vision_config.hidden_act");
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"], "text_config": {"model_type": "gemma"}}"""))
                .hasMessageContaining(file).hasMessageContaining("text_config.model_type").hasMessageContaining("gemma");
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"], "text_config": {"hidden_size": -1}}"""))
                .hasMessageContaining("text_config.hidden_size");
        assertThatThrownBy(() -> parse("""
                {"architectures": ["LlavaForConditionalGeneration"], "vision_config": {"image_size": "big"}}"""))
                .hasMessageContaining("vision_config.image_size");
        assertThatThrownBy(() -> parse("{\"architectures\": [\"LlamaForCausalLM\"]}"))
                .hasMessageContaining("LlavaForConditionalGeneration");
    }

    @Test
    void checkpointOpensLlavaAndExposesBothConfigs() {
        Path ckptDir = TinyLlavaCheckpoint.write(dir.resolve("tiny"), TinyLlavaCheckpoint.Spec.llama());
        try (Checkpoint ckpt = Checkpoint.open(ckptDir)) {
            assertThat(ckpt.architecture()).isEqualTo(LlavaConfig.ARCHITECTURE);
            LlavaConfig llava = LlavaConfig.parse(ckpt.configJson());
            assertThat(llava.textConfig().vocabSize()).isEqualTo(TinyLlavaCheckpoint.VOCAB_SIZE);
            assertThat(llava.imageTokenIndex()).isEqualTo(TinyLlavaCheckpoint.IMAGE_TOKEN_ID);
            assertThat(llava.imageTokensPerImage()).isEqualTo(16);
            assertThat(ckpt.toString()).contains(LlavaConfig.ARCHITECTURE);
        }
        Path text = TinyCheckpoint.write(dir.resolve("text"), TinyCheckpoint.Spec.qwen2());
        try (Checkpoint ckpt = Checkpoint.open(text)) {
            assertThat(ckpt.architecture()).isNotEqualTo(LlavaConfig.ARCHITECTURE);
            assertThat(ckpt.architecture()).isEqualTo("Qwen2ForCausalLM");
        }
        assertThat(List.of(LlavaConfig.ARCHITECTURE)).doesNotContainAnyElementsOf(ModelConfig.SUPPORTED_ARCHITECTURES);
    }
}
