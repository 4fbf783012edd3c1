package io.sparkmm.engine.models.llavaonevision;

import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.models.llava.SiglipVisionConfig;
import io.sparkmm.kernels.Activation;
import io.sparkmm.processors.image.LlavaOnevisionImageProcessorConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code LlavaOnevisionForConditionalGeneration} config.json (transformers' LlavaOnevisionConfig):
 * a SigLIP tower run on every AnyRes patch, LLaVA's two-layer projector, a learned image_newline, and a
 * Qwen2 decoder, with transformers' defaults for absent keys.
 *
 * @param textConfig          {@code text_config}; a missing model_type means "qwen2", as in HF
 * @param visionConfig        {@code vision_config} (SigLIP)
 * @param imageTokenIndex     {@code image_token_index} (alias {@code image_token_id}), default 151646
 * @param videoTokenIndex     {@code video_token_index} (alias {@code video_token_id}), default 151647
 * @param projectorHiddenAct  {@code projector_hidden_act}, default "gelu"
 * @param visionFeatureLayer  {@code vision_feature_layer}, default -1, an index into the tower's
 *                            hidden states (negative from the end)
 * @param multimodalProjectorBias {@code multimodal_projector_bias}, default true
 * @param pinpoints           {@code image_grid_pinpoints} ({height, width}); the model splits the
 *                            features of an image by the tile count of its pinpoint
 * @param maxNumPatches       N of {@code vision_aspect_ratio = "anyres_max_N"}, default 9
 */
public record LlavaOnevisionConfig(ModelConfig textConfig, SiglipVisionConfig visionConfig, int imageTokenIndex,
                                   int videoTokenIndex, String projectorHiddenAct, int visionFeatureLayer, boolean multimodalProjectorBias,
                                   int[][] pinpoints, int maxNumPatches) {

    public static final String ARCHITECTURE = "LlavaOnevisionForConditionalGeneration";
    public static final String MODEL_TYPE = "llava_onevision";
    private static final Pattern ANYRES_MAX = Pattern.compile("anyres_max_(\\d+)");

    public static LlavaOnevisionConfig parse(JsonFields f) {
        JsonFields text = f.object("text_config");
        ObjectNode decoder = text != null ? text.node().deepCopy() : JsonFields.MAPPER.createObjectNode();
        // transformers 5 ties the head by the top-level flag (the Hub's files may keep it in text_config)
        boolean tie = f.boolOr("tie_word_embeddings", false) || decoder.path("tie_word_embeddings").asBoolean(false);
        decoder.put("tie_word_embeddings", tie);
        ModelConfig textConfig = ModelConfig.parse(new JsonFields(decoder, f.file(), "text_config."), "qwen2");
        JsonFields vision = f.object("vision_config");
        SiglipVisionConfig visionConfig = SiglipVisionConfig.parse(vision != null ? vision
                : new JsonFields(defaultVision(), f.file(), "vision_config."));

        String imageKey = f.has("image_token_index") ? "image_token_index" : "image_token_id";
        int imageToken = f.intOr(imageKey, 151646);
        if (imageToken < 0) {
            throw f.invalid(imageKey, imageToken, "must be >= 0");
        }
        String videoKey = f.has("video_token_index") ? "video_token_index" : "video_token_id";
        int videoToken = f.intOr(videoKey, 151647);
        if (videoToken < 0 || videoToken == imageToken) {
            throw f.invalid(videoKey, videoToken, "must be >= 0 and differ from " + imageKey + " " + imageToken);
        }
        String act = f.stringOr("projector_hidden_act", "gelu");
        try {
            Activation.fromHf(act);
        } catch (IllegalArgumentException e) {
            throw f.invalid("projector_hidden_act", "\"" + act + "\"", e.getMessage());
        }

        // SigLIP has no class token: "default" would drop a real patch, and HF's own packing then fails
        // to lay the remaining side^2 - 1 features out as a grid. Only "full" describes a working model.
        String strategy = f.stringOr("vision_feature_select_strategy", "full");
        if (!strategy.equals("full")) {
            throw f.invalid("vision_feature_select_strategy", "\"" + strategy + "\"", "only \"full\" is supported: a "
                    + "SigLIP tower has no class token to drop, and the AnyRes packing needs every patch's feature");
        }
        JsonNode layerNode = f.node().get("vision_feature_layer");
        int layer;
        if (layerNode != null && layerNode.isArray()) {
            // several layers would be concatenated (projector input = d x layers); no released checkpoint does it
            if (layerNode.size() != 1 || !layerNode.get(0).canConvertToInt()) {
                throw f.invalid("vision_feature_layer", layerNode, "only one layer is supported");
            }
            layer = layerNode.get(0).asInt();
        } else {
            layer = f.intOr("vision_feature_layer", -1);
        }
        int states = visionConfig.numLayers() + 1;
        if (layer < -states || layer >= states) {
            throw f.invalid("vision_feature_layer", layer, "outside the " + states + " hidden states of a "
                    + visionConfig.numLayers() + "-layer vision tower");
        }

        String aspect = f.stringOr("vision_aspect_ratio", "anyres_max_9");
        Matcher m = ANYRES_MAX.matcher(aspect);
        if (!m.matches() || Integer.parseInt(m.group(1)) <= 0) {
            throw f.invalid("vision_aspect_ratio", "\"" + aspect + "\"", "expected anyres_max_N with N > 0");
        }
        return new LlavaOnevisionConfig(textConfig, visionConfig, imageToken, videoToken, act, layer,
                f.boolOr("multimodal_projector_bias", true), pinpoints(f), Integer.parseInt(m.group(1)));
    }

    /** transformers' tower when config.json has no vision_config (not SigLIP's own 224/16 defaults). */
    private static ObjectNode defaultVision() {
        ObjectNode v = JsonFields.MAPPER.createObjectNode();
        v.put("hidden_size", 1152).put("intermediate_size", 4304).put("patch_size", 14).put("image_size", 384)
                .put("num_hidden_layers", 26).put("num_attention_heads", 16);
        return v;
    }

    private static int[][] pinpoints(JsonFields f) {
        JsonNode node = f.node().get("image_grid_pinpoints");
        if (node == null || node.isNull()) {
            return LlavaOnevisionImageProcessorConfig.defaultPinpoints();
        }
        if (!node.isArray() || node.isEmpty()) {
            throw f.bad("image_grid_pinpoints", node, "a non-empty list of [height, width]");
        }
        int[][] out = new int[node.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode p = node.get(i);
            if (!p.isArray() || p.size() != 2 || !p.get(0).canConvertToInt() || !p.get(1).canConvertToInt()
                    || p.get(0).asInt() <= 0 || p.get(1).asInt() <= 0) {
                throw f.bad("image_grid_pinpoints", node, "a list of [height, width] pairs of positive ints");
            }
            out[i] = new int[] {p.get(0).asInt(), p.get(1).asInt()};
        }
        return out;
    }

    /** Whether a parsed config.json describes LLaVA-OneVision (by architectures, else by model_type). */
    static boolean describes(JsonFields f) {
        JsonNode archs = f.node().get("architectures");
        if (archs != null && archs.isArray() && !archs.isEmpty() && archs.get(0).isTextual()) {
            return archs.get(0).asText().equals(ARCHITECTURE);
        }
        return MODEL_TYPE.equals(f.node().path("model_type").asText(null));
    }

    static LlavaOnevisionConfig parseChecked(JsonFields f) {
        if (!describes(f)) {
            throw new CheckpointException(f.file() + ": architectures is " + f.node().get("architectures")
                    + ", expected [\"" + ARCHITECTURE + "\"]");
        }
        return parse(f);
    }

    /** Features of one patch (tile or base image): the tower's patch grid, side x side. */
    public int tokensPerPatch() {
        return visionConfig.numPatches();
    }

    /**
     * An upper bound of the image tokens of one image, over all sizes (the encoder budget must hold
     * one image): for each pinpoint of R x C features, the unpadded grid has at most R rows and C
     * columns; past the anyres_max threshold (ratio 1.1, i.e. 1.21 N side^2 features) it is shrunk to
     * at most N side^2 features, under it it holds at most that threshold. Plus a newline a row and
     * the base patch.
     */
    public long maxImageTokens() {
        int side = visionConfig.gridSize();
        int tile = visionConfig.imageSize();
        long cap = (long) Math.ceil(1.21 * maxNumPatches * side * side) + 1;
        long most = 0;
        for (int[] p : pinpoints) {
            long rows = (long) side * (p[0] / tile);
            long cols = (long) side * (p[1] / tile);
            most = Math.max(most, Math.min(rows * cols, cap) + rows);
        }
        return most + (long) side * side;
    }

    /** Side of a video frame's pooled feature grid: HF's apply_pooling shrinks side x side to ceil(side / 2) squared. */
    public int pooledSide() {
        return (visionConfig.gridSize() + 1) / 2;
    }

    /** Placeholder tokens of a video of {@code frames} frames: pooled features of each frame, then one image_newline. */
    public long videoTokens(int frames) {
        return (long) frames * pooledSide() * pooledSide() + 1;
    }

    public Activation projectorActivation() {
        return Activation.fromHf(projectorHiddenAct);
    }
}
