package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.ModelConfig;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.kernels.Activation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code LlavaForConditionalGeneration} config.json (transformers' LlavaConfig): a CLIP vision
 * tower, a two-layer projector, and a Llama-style text decoder, with transformers' defaults.
 *
 * <p>It lives next to {@link ModelConfig} (not in {@code models/}) because {@link Checkpoint}
 * parses it when it opens a directory, and the checkpoint package must not depend on model code.
 *
 * @param textConfig            {@code text_config}; its own missing keys take the defaults of its
 *                              config class, and a missing model_type means "llama", as in HF
 * @param visionConfig          {@code vision_config}
 * @param imageTokenIndex       {@code image_token_index} (newer files may say {@code image_token_id})
 * @param projectorHiddenAct    {@code projector_hidden_act}, default "gelu" (erf)
 * @param visionFeatureLayers   {@code vision_feature_layer} as a list (one entry for the int form);
 *                              indices into the tower's hidden states, negative from the end
 * @param featureLayerIsList    whether config.json wrote a list (kept so the config round-trips)
 * @param visionFeatureSelectStrategy "default" drops the class token, "full" keeps it
 * @param multimodalProjectorBias {@code multimodal_projector_bias}, default true
 * @param imageSeqLength        {@code image_seq_length} as written, or null; informational only:
 *                              the placeholder count is {@link #imageTokensPerImage()}, computed
 *                              from the tower as LlavaProcessor computes it
 */
public record LlavaConfig(ModelConfig textConfig, ClipVisionConfig visionConfig, int imageTokenIndex,
                          String projectorHiddenAct, List<Integer> visionFeatureLayers, boolean featureLayerIsList,
                          String visionFeatureSelectStrategy, boolean multimodalProjectorBias,
                          Integer imageSeqLength) {

    public static final String ARCHITECTURE = "LlavaForConditionalGeneration";
    public static final String MODEL_TYPE = "llava";

    public LlavaConfig {
        visionFeatureLayers = List.copyOf(visionFeatureLayers);
    }

    /** Reads and validates a LLaVA config.json; every error names the file and the key. */
    public static LlavaConfig parse(Path configJson) {
        return parse(JsonFields.read(configJson));
    }

    /** Whether a parsed config.json describes a LLaVA model (by architectures, else by model_type). */
    static boolean describes(JsonFields f) {
        JsonNode archs = f.node().get("architectures");
        if (archs != null && archs.isArray() && !archs.isEmpty() && archs.get(0).isTextual()) {
            return archs.get(0).asText().equals(ARCHITECTURE);
        }
        return MODEL_TYPE.equals(f.node().path("model_type").asText(null));
    }

    public static LlavaConfig parse(JsonFields f) {
        if (!describes(f)) {
            throw new CheckpointException(f.file() + ": architectures is " + f.node().get("architectures")
                    + ", expected [\"" + ARCHITECTURE + "\"]");
        }
        JsonFields text = f.object("text_config");
        // HF builds a default LlamaConfig when text_config is absent; an empty object does the same here.
        ModelConfig textConfig = ModelConfig.parse(text != null ? text
                : new JsonFields(JsonFields.MAPPER.createObjectNode(), f.file(), "text_config."), "llama");
        JsonFields vision = f.object("vision_config");
        ClipVisionConfig visionConfig = vision != null ? ClipVisionConfig.parse(vision)
                : ClipVisionConfig.llavaDefault();

        // image_token_id is LlavaConfig's attribute alias of image_token_index; some writers use it.
        int imageToken = f.has("image_token_index") ? f.intOr("image_token_index", 0)
                : f.intOr("image_token_id", 32000);
        String imageKey = f.has("image_token_index") ? "image_token_index" : "image_token_id";
        if (imageToken < 0) {
            throw f.invalid(imageKey, imageToken, "must be >= 0");
        }

        String projectorAct = f.stringOr("projector_hidden_act", "gelu");
        ClipVisionConfig.activation(f, "projector_hidden_act", projectorAct);

        String strategy = f.stringOr("vision_feature_select_strategy", "default");
        if (!strategy.equals("default") && !strategy.equals("full")) {
            throw f.invalid("vision_feature_select_strategy", "\"" + strategy + "\"",
                    "expected \"default\" (drop the class token) or \"full\"");
        }

        List<Integer> layers = new ArrayList<>();
        JsonNode layerNode = f.node().get("vision_feature_layer");
        boolean isList = layerNode != null && layerNode.isArray();
        if (isList) {
            if (layerNode.isEmpty()) {
                throw f.bad("vision_feature_layer", layerNode, "an int or a non-empty list of ints");
            }
            layers.addAll(f.intListOr("vision_feature_layer", List.of()));
        } else {
            layers.add(f.intOr("vision_feature_layer", -2));
        }
        // hidden_states has numLayers + 1 entries: the embeddings (after pre_layrnorm), then each layer's output.
        int states = visionConfig.numLayers() + 1;
        for (int layer : layers) {
            if (layer < -states || layer >= states) {
                throw f.invalid("vision_feature_layer", layerNode, "index " + layer + " is outside the "
                        + states + " hidden states of a " + visionConfig.numLayers() + "-layer vision tower");
            }
        }

        Integer seqLength = f.intOrNull("image_seq_length");
        return new LlavaConfig(textConfig, visionConfig, imageToken, projectorAct, layers, isList, strategy,
                f.boolOr("multimodal_projector_bias", true), seqLength);
    }

    /** Whether the class token is kept ("full") in the image features. */
    public boolean keepClassToken() {
        return visionFeatureSelectStrategy.equals("full");
    }

    /**
     * Placeholder tokens per image: one per patch, plus the class token under "full". LlavaProcessor
     * computes it as patches + num_additional_image_tokens (1 for CLIP), minus 1 under "default".
     */
    public int imageTokensPerImage() {
        return visionConfig.numPatches() + (keepClassToken() ? 1 : 0);
    }

    /** The selected hidden states as indices in [0, numLayers], in the order they are concatenated. */
    public int[] featureLayerIndices() {
        int states = visionConfig.numLayers() + 1;
        return visionFeatureLayers.stream().mapToInt(l -> l < 0 ? states + l : l).toArray();
    }

    /** Width of the features the projector reads: the tower's hidden size per selected layer. */
    public int projectorInputSize() {
        return visionConfig.hiddenSize() * visionFeatureLayers.size();
    }

    public Activation projectorActivation() {
        return Activation.fromHf(projectorHiddenAct);
    }
}
