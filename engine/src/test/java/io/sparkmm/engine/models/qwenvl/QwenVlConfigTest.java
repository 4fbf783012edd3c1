package io.sparkmm.engine.models.qwenvl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.JsonFields;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Qwen-VL-Chat's published config.json (Qwen/Qwen-VL-Chat, as modeling_qwen.py and visual.py read
 * it) gives the real model's sizes; a config the family cannot run fails naming its key.
 */
class QwenVlConfigTest {

    private static final String QWEN_VL_CHAT = """
            {"architectures": ["QWenLMHeadModel"], "attn_dropout_prob": 0.0,
             "auto_map": {"AutoConfig": "configuration_qwen.QWenConfig", "AutoModelForCausalLM": "modeling_qwen.QWenLMHeadModel"},
             "bf16": false, "emb_dropout_prob": 0.0, "fp16": false, "fp32": false, "hidden_size": 4096,
             "initializer_range": 0.02, "intermediate_size": 22016, "kv_channels": 128, "layer_norm_epsilon": 1e-06,
             "max_position_embeddings": 8192, "model_type": "qwen", "no_bias": true, "num_attention_heads": 32,
             "num_hidden_layers": 32, "onnx_safe": null, "rotary_emb_base": 10000, "rotary_pct": 1.0,
             "scale_attn_weights": true, "seq_length": 2048, "tie_word_embeddings": false, "tokenizer_type": "QWenTokenizer",
             "torch_dtype": "bfloat16", "transformers_version": "4.31.0", "use_cache": true, "use_dynamic_ntk": true,
             "use_flash_attn": false, "use_logn_attn": true,
             "visual": {"heads": 16, "image_size": 448, "image_start_id": 151857, "layers": 48, "mlp_ratio": 4.9231,
                        "output_dim": 4096, "patch_size": 14, "width": 1664},
             "vocab_size": 151936}""";

    private static JsonFields fields(Consumer<ObjectNode> edit) throws Exception {
        ObjectNode node = (ObjectNode) JsonFields.MAPPER.readTree(QWEN_VL_CHAT);
        edit.accept(node);
        return new JsonFields(node, Path.of("config.json"), "");
    }

    @Test
    void theRealConfigGivesQwenVlsSizes() throws Exception {
        QwenVlConfig c = QwenVlConfig.parse(fields(n -> { }), true);
        assertThat(c.text().hiddenSize()).isEqualTo(4096);
        assertThat(c.text().intermediateSize()).as("w1/w2 are intermediate_size / 2 wide").isEqualTo(11008);
        assertThat(c.text().headDim()).isEqualTo(128);
        assertThat(c.text().numKvHeads()).isEqualTo(32);
        assertThat(c.text().rmsNormEps()).isEqualTo(1e-6f);
        assertThat(c.text().ropeTheta()).isEqualTo(10000.0);
        assertThat(c.text().vocabSize()).isEqualTo(151936);
        assertThat(c.text().eosTokenIds()).as("<|endoftext|>, then chatml's <|im_end|> and <|im_start|>")
                .containsExactly(151643, 151645, 151644);
        assertThat(c.imageStartId()).isEqualTo(151857);
        assertThat(c.imageEndId()).isEqualTo(151858);
        assertThat(c.imagePadId()).isEqualTo(151859);
        QwenVlConfig.Vision v = c.vision();
        assertThat(v.mlpWidth()).as("int(1664 * 4.9231)").isEqualTo(8192);
        assertThat(v.grid()).isEqualTo(32);
        assertThat(v.patches()).isEqualTo(1024);
        assertThat(v.nQueries()).isEqualTo(256);
        assertThat(v.poolHeads()).isEqualTo(32);
        assertThat(QwenVlConfig.parse(fields(n -> { }), false).text().eosTokenIds()).containsExactly(151643);
    }

    @Test
    void whatTheFamilyCannotRunFailsNamingTheKey() {
        assertThatThrownBy(() -> QwenVlConfig.parse(fields(n -> n.remove("visual")), false))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("\"visual\"").hasMessageContaining("text-only");
        assertThatThrownBy(() -> QwenVlConfig.parse(fields(n -> n.put("rotary_pct", 0.5)), false))
                .hasMessageContaining("rotary_pct");
        assertThatThrownBy(() -> QwenVlConfig.parse(fields(n -> n.put("kv_channels", 64)), false))
                .hasMessageContaining("kv_channels");
        assertThatThrownBy(() -> QwenVlConfig.parse(fields(n -> ((ObjectNode) n.get("visual")).put("output_dim", 2048)), false))
                .hasMessageContaining("output_dim");
        assertThatThrownBy(() -> QwenVlConfig.parse(fields(n -> ((ObjectNode) n.get("visual")).put("n_queries", 300)), false))
                .hasMessageContaining("n_queries");
        assertThatThrownBy(() -> QwenVlConfig.parse(fields(n -> ((ObjectNode) n.get("visual")).put("image_size", 450)), false))
                .hasMessageContaining("image_size");
        assertThatThrownBy(() -> QwenVlConfig.parse(fields(n -> n.put("vocab_size", 151000)), false))
                .hasMessageContaining("image_start_id");
    }
}
