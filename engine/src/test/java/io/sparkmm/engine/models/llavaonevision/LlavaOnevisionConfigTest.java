package io.sparkmm.engine.models.llavaonevision;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.processors.image.LlavaOnevisionTokenCount;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * config.json of LlavaOnevisionForConditionalGeneration: transformers' class defaults for absent keys
 * (read from transformers 5.18's LlavaOnevisionConfig: image_token_index 151646, vision_feature_layer
 * -1, "full", anyres_max_9, the 36 pinpoints of 384 px; a Qwen2 text_config), and clear refusals of
 * what the model cannot run.
 */
class LlavaOnevisionConfigTest {

    private static final Path FILE = Path.of("config.json");

    private static ObjectNode minimal() {
        ObjectNode root = JsonFields.MAPPER.createObjectNode();
        root.putArray("architectures").add(LlavaOnevisionConfig.ARCHITECTURE);
        return root;
    }

    private static LlavaOnevisionConfig parse(ObjectNode root) {
        return LlavaOnevisionConfig.parseChecked(new JsonFields(root, FILE, ""));
    }

    @Test
    void absentKeysTakeTransformersDefaults() {
        LlavaOnevisionConfig c = parse(minimal());
        assertThat(c.imageTokenIndex()).isEqualTo(151646);
        assertThat(c.visionFeatureLayer()).isEqualTo(-1);
        assertThat(c.maxNumPatches()).isEqualTo(9);
        assertThat(c.pinpoints()).hasDimensions(36, 2);
        assertThat(c.pinpoints()[1]).containsExactly(384, 768);
        assertThat(c.textConfig().architecture()).isEqualTo("Qwen2ForCausalLM");
        assertThat(c.projectorHiddenAct()).isEqualTo("gelu");
        assertThat(c.multimodalProjectorBias()).isTrue();
        assertThat(c.videoTokenIndex()).isEqualTo(151647);
        assertThat(c.textConfig().tieWordEmbeddings()).isFalse();
        // no vision_config: transformers' LlavaOnevisionConfig builds SigLIP so400m at 384 / 14
        assertThat(c.visionConfig().imageSize()).isEqualTo(384);
        assertThat(c.visionConfig().patchSize()).isEqualTo(14);
        assertThat(c.visionConfig().hiddenSize()).isEqualTo(1152);
        assertThat(c.visionConfig().numLayers()).isEqualTo(26);
        assertThat(c.videoTokens(1)).isEqualTo(197);
    }

    @Test
    void aVideoFrameOfTheReleasedTowerIs196TokensAndTheVideoOneNewlineMore() {
        ObjectNode root = minimal();
        root.putObject("vision_config").put("image_size", 384).put("patch_size", 14);
        LlavaOnevisionConfig c = parse(root);
        // 384 / 14 = 27 features a side, pooled to ceil(27 / 2) = 14 a side: vLLM's "196 per frame + 1"
        assertThat(c.videoTokens(1)).isEqualTo(197);
        assertThat(c.videoTokens(32)).isEqualTo(32 * 196 + 1);
    }

    @Test
    void theTopLevelTieFlagAndTheVideoTokenAliasAreRead() {
        ObjectNode root = minimal();
        root.put("tie_word_embeddings", true);
        root.put("video_token_id", 7);
        LlavaOnevisionConfig c = parse(root);
        assertThat(c.textConfig().tieWordEmbeddings()).isTrue();
        assertThat(c.videoTokenIndex()).isEqualTo(7);
        ObjectNode same = minimal();
        same.put("video_token_index", 151646);
        assertThatThrownBy(() -> parse(same)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("video_token_index").hasMessageContaining("differ");
    }

    @Test
    void theDefaultStrategyIsRefusedBecauseSiglipHasNoClassToken() {
        ObjectNode root = minimal();
        root.put("vision_feature_select_strategy", "default");
        assertThatThrownBy(() -> parse(root)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("vision_feature_select_strategy").hasMessageContaining("only \"full\"");
    }

    @Test
    void severalFeatureLayersAndBadAspectRatiosAreRefused() {
        ObjectNode layers = minimal();
        layers.putArray("vision_feature_layer").add(-2).add(-1);
        assertThatThrownBy(() -> parse(layers)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("vision_feature_layer");
        ObjectNode one = minimal();
        one.putArray("vision_feature_layer").add(-2);
        assertThat(parse(one).visionFeatureLayer()).isEqualTo(-2);
        ObjectNode aspect = minimal();
        aspect.put("vision_aspect_ratio", "anyres");
        assertThatThrownBy(() -> parse(aspect)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("vision_aspect_ratio");
        ObjectNode outside = minimal();
        outside.put("vision_feature_layer", -28); // the default tower has 26 layers: 27 hidden states
        assertThatThrownBy(() -> parse(outside)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("vision_feature_layer");
    }

    @Test
    void anotherArchitectureIsNotParsedAsOneVision() {
        ObjectNode root = minimal();
        root.putArray("architectures").add("LlavaForConditionalGeneration");
        assertThatThrownBy(() -> parse(root)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(LlavaOnevisionConfig.ARCHITECTURE);
    }

    /**
     * The encoder budget's bound holds every image: LlavaOnevisionTokenCount (checked against HF's
     * processor over hundreds of sizes) never counts more, for the Hub's default geometry (SigLIP
     * 384/14, 36 pinpoints, anyres_max_9) over sizes from 1 pixel to 2 x the largest canvas, and
     * the bound is not loose by more than the rows of one canvas.
     */
    @Test
    void theLargestImageBoundHoldsEveryImageSize() {
        ObjectNode root = minimal();
        root.putObject("vision_config").put("image_size", 384).put("patch_size", 14);
        LlavaOnevisionConfig c = parse(root);
        LlavaOnevisionTokenCount count = new LlavaOnevisionTokenCount(c.tokensPerPatch(), c.maxNumPatches(), false,
                c.pinpoints(), 384, 384);
        long bound = c.maxImageTokens();
        int most = 0;
        for (int h = 1; h <= 4608; h += 37) {
            for (int w = 1; w <= 4608; w += 41) {
                most = Math.max(most, count.imageTokens(h, w));
            }
        }
        for (int[] extreme : new int[][] {{1, 4608}, {4608, 1}, {2304, 2304}, {2304, 384}, {384, 2304}}) {
            most = Math.max(most, count.imageTokens(extreme[0], extreme[1]));
        }
        assertThat(most).isLessThanOrEqualTo((int) bound);
        assertThat(bound - most).isLessThan(27 * 6 + 729);
    }
}
