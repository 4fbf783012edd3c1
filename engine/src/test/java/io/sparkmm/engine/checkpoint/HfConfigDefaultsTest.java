package io.sparkmm.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.models.llava.ClipVisionConfig;
import io.sparkmm.engine.models.llava.LlavaConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * A config.json that names only its architecture means what transformers' config class assumes:
 * the defaults transformers 4.57 and 5.x report (recorded by src/test/python/hf_fixtures.py) are
 * the ones {@link ModelConfig} and {@link LlavaConfig} fill in.
 */
class HfConfigDefaultsTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tf4", "tf5"})
    void bareConfigsTakeTransformersDefaults(String era) throws Exception {
        JsonNode defaults;
        try (InputStream in = getClass().getResourceAsStream("/hf/" + era + "/fixtures.json")) {
            defaults = new ObjectMapper().readTree(in).get("config_defaults");
        }
        int checked = 0;
        for (String arch : ModelConfig.SUPPORTED_ARCHITECTURES) {
            assertText(arch + " (" + era + ")", ModelConfig.parse(bare(arch), null), defaults.get(arch));
            checked++;
        }
        JsonNode l = defaults.get(LlavaConfig.ARCHITECTURE);
        LlavaConfig llava = LlavaConfig.parse(bare(LlavaConfig.ARCHITECTURE));
        String what = "llava (" + era + ")";
        assertThat(llava.imageTokenIndex()).as(what).isEqualTo(l.get("image_token_index").asInt());
        assertThat(llava.projectorHiddenAct()).as(what).isEqualTo(l.get("projector_hidden_act").asText());
        assertThat(llava.visionFeatureLayers()).as(what).containsExactly(l.get("vision_feature_layer").asInt());
        assertThat(llava.visionFeatureSelectStrategy()).as(what).isEqualTo(l.get("vision_feature_select_strategy").asText());
        assertThat(llava.multimodalProjectorBias()).as(what).isEqualTo(l.get("multimodal_projector_bias").asBoolean());
        JsonNode v = l.get("vision_config");
        ClipVisionConfig vc = llava.visionConfig();
        assertThat(List.of(vc.hiddenSize(), vc.intermediateSize(), vc.numLayers(), vc.numHeads(), vc.imageSize(),
                vc.patchSize(), vc.numChannels())).as(what + " vision_config")
                .containsExactly(v.get("hidden_size").asInt(), v.get("intermediate_size").asInt(),
                        v.get("num_hidden_layers").asInt(), v.get("num_attention_heads").asInt(),
                        v.get("image_size").asInt(), v.get("patch_size").asInt(), v.get("num_channels").asInt());
        assertThat((double) vc.layerNormEps()).as(what).isCloseTo(v.get("layer_norm_eps").asDouble(), within(1e-12));
        assertThat(vc.hiddenAct()).as(what).isEqualTo(v.get("hidden_act").asText());
        assertText(what + " text_config", llava.textConfig(), l.get("text_config"));
        assertThat(checked).isEqualTo(3);
    }

    private static void assertText(String what, ModelConfig c, JsonNode d) {
        assertThat(List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.maxPositionEmbeddings())).as(what)
                .containsExactly(d.get("vocab_size").asInt(), d.get("hidden_size").asInt(),
                        d.get("intermediate_size").asInt(), d.get("num_hidden_layers").asInt(),
                        d.get("num_attention_heads").asInt(), d.get("num_key_value_heads").asInt(),
                        d.get("head_dim").asInt(), d.get("max_position_embeddings").asInt());
        assertThat((double) c.rmsNormEps()).as(what + " rms_norm_eps").isCloseTo(d.get("rms_norm_eps").asDouble(), within(1e-12));
        assertThat(c.ropeTheta()).as(what + " rope_theta").isEqualTo(d.get("rope_theta").asDouble());
        assertThat(c.ropeScaling()).as(what + " rope scaling").isNull();
        assertThat(c.tieWordEmbeddings()).as(what + " tie_word_embeddings").isEqualTo(d.get("tie_word_embeddings").asBoolean());
        assertThat(c.bosTokenId()).as(what + " bos_token_id")
                .isEqualTo(d.get("bos_token_id").isNull() ? null : d.get("bos_token_id").asInt());
        List<Integer> eos = new ArrayList<>();
        d.get("eos_token_ids").forEach(e -> eos.add(e.asInt()));
        assertThat(c.eosTokenIds()).as(what + " eos_token_id").isEqualTo(eos);
        assertThat(c.hiddenAct()).as(what + " hidden_act").isEqualTo(d.get("hidden_act").asText());
    }

    private static JsonFields bare(String architecture) {
        ObjectNode node = JsonFields.MAPPER.createObjectNode();
        node.putArray("architectures").add(architecture);
        return new JsonFields(node, Path.of("config.json"), "");
    }
}
