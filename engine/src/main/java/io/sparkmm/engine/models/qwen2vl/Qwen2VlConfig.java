package io.sparkmm.engine.models.qwen2vl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.ModelConfig;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A Qwen2-VL or Qwen2.5-VL config.json, in either layout: the Hub's flat one (the language model's
 * keys at the top level next to {@code vision_config}, as transformers 4.x writes it) or
 * transformers 5's nested {@code text_config}/{@code vision_config}. The language model is a Qwen2
 * decoder whose rotary embedding is sectioned (M-RoPE).
 *
 * @param qwen25        Qwen2.5-VL (windowed vision tower, time-scaled video positions)
 * @param text          the decoder, with the Qwen2-VL text config's defaults for absent keys
 * @param vision        the vision tower
 * @param mropeSection  frequency pairs per (temporal, height, width) section, summing to head_dim / 2
 */
public record Qwen2VlConfig(boolean qwen25, ModelConfig text, Qwen2VlVisionConfig vision, int imageTokenId,
                            int videoTokenId, int visionStartTokenId, int visionEndTokenId, int[] mropeSection) {

    public static final String QWEN2_VL = "Qwen2VLForConditionalGeneration";
    public static final String QWEN2_5_VL = "Qwen2_5_VLForConditionalGeneration";

    /** Qwen2VLTextConfig / Qwen2_5_VLTextConfig class defaults (identical in both, transformers 4.57 and 5.18). */
    private static final Map<String, Object> TEXT_DEFAULTS = Map.ofEntries(
            Map.entry("vocab_size", 152064), Map.entry("hidden_size", 8192), Map.entry("intermediate_size", 29568),
            Map.entry("num_hidden_layers", 80), Map.entry("num_attention_heads", 64),
            Map.entry("num_key_value_heads", 8), Map.entry("max_position_embeddings", 32768),
            Map.entry("rms_norm_eps", 1e-5), Map.entry("bos_token_id", 151643), Map.entry("eos_token_id", 151645));
    private static final double DEFAULT_ROPE_THETA = 1_000_000.0;
    private static final List<Integer> DEFAULT_MROPE_SECTION = List.of(16, 24, 24);

    public Qwen2VlConfig {
        mropeSection = mropeSection.clone();
    }

    @Override
    public int[] mropeSection() {
        return mropeSection.clone();
    }

    /**
     * @param architecture config.json's architectures[0], or null: transformers 4.57 writes a flat
     *     Qwen2-VL config whose only architectures list is inside text_config, and then model_type
     *     ("qwen2_vl" or "qwen2_5_vl") says which model it is
     */
    public static Qwen2VlConfig parse(JsonFields f, String architecture) {
        boolean qwen25 = architecture != null ? architecture.equals(QWEN2_5_VL)
                : "qwen2_5_vl".equals(f.stringOr("model_type", ""));
        JsonFields nested = f.object("text_config");
        JsonFields text = nested != null ? nested : f;
        JsonFields vision = f.object("vision_config");
        if (vision == null) {
            vision = new JsonFields(JsonFields.MAPPER.createObjectNode(), f.file(), "vision_config.");
        }

        JsonFields rope = text.object("rope_scaling");
        String ropeKey = "rope_scaling";
        if (rope == null) {
            rope = text.object("rope_parameters");
            ropeKey = "rope_parameters";
        }
        List<Integer> section = DEFAULT_MROPE_SECTION;
        double theta = text.doubleOr("rope_theta", DEFAULT_ROPE_THETA);
        if (rope != null) {
            String type = rope.stringOr("rope_type", rope.stringOr("type", "default"));
            if (!type.equals("default") && !type.equals("mrope")) {
                throw text.invalid(ropeKey, type, "rope type \"" + type + "\" is not supported with M-RoPE (default or mrope)");
            }
            section = rope.intListOr("mrope_section", DEFAULT_MROPE_SECTION);
            theta = rope.doubleOr("rope_theta", theta);
        }
        if (text.boolOr("use_sliding_window", false)) {
            throw text.invalid("use_sliding_window", true, "sliding-window attention is not supported; every layer"
                    + " attends to the whole context");
        }

        ObjectNode decoder = JsonFields.MAPPER.createObjectNode();
        TEXT_DEFAULTS.forEach((k, v) -> decoder.set(k, JsonFields.MAPPER.valueToTree(v)));
        for (Iterator<Map.Entry<String, JsonNode>> it = text.node().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("vision_config") && !e.getKey().equals("text_config")) {
                decoder.set(e.getKey(), e.getValue());
            }
        }
        // The decoder is Qwen2's; M-RoPE only changes which position each frequency reads.
        decoder.remove(List.of("architectures", "rope_scaling", "rope_parameters"));
        decoder.put("model_type", "qwen2");
        decoder.put("rope_theta", theta);
        // transformers 5 keeps the flag at the top; files written before keep it in text_config.
        boolean tie = f.boolOr("tie_word_embeddings", false) || text.boolOr("tie_word_embeddings", false);
        decoder.put("tie_word_embeddings", tie);
        ModelConfig textConfig = ModelConfig.parse(new JsonFields(decoder, f.file(), nested != null ? "text_config." : ""),
                "qwen2");

        int[] sections = section.stream().mapToInt(Integer::intValue).toArray();
        int sum = 0;
        for (int s : sections) {
            if (s <= 0) {
                throw text.invalid(ropeKey + ".mrope_section", section, "every section must be > 0");
            }
            sum += s;
        }
        if (sections.length != 3 || sum != textConfig.headDim() / 2) {
            throw text.invalid(ropeKey + ".mrope_section", section, "needs 3 sections (temporal, height, width)"
                    + " summing to head_dim / 2 = " + textConfig.headDim() / 2);
        }
        Qwen2VlVisionConfig visionConfig = Qwen2VlVisionConfig.parse(vision, qwen25);
        if (visionConfig.outHidden() != textConfig.hiddenSize()) {
            throw vision.invalid(qwen25 ? "out_hidden_size" : "hidden_size", visionConfig.outHidden(),
                    "the merger must output the language model's hidden_size " + textConfig.hiddenSize());
        }
        int image = f.intOr("image_token_id", 151655);
        int video = f.intOr("video_token_id", 151656);
        for (Map.Entry<String, Integer> id : Map.of("image_token_id", image, "video_token_id", video).entrySet()) {
            if (id.getValue() < 0 || id.getValue() >= textConfig.vocabSize()) {
                throw f.invalid(id.getKey(), id.getValue(), "outside the vocabulary [0, " + textConfig.vocabSize() + ")");
            }
        }
        if (image == video) {
            throw new CheckpointException(f.file() + ": image_token_id and video_token_id are both " + image);
        }
        return new Qwen2VlConfig(qwen25, textConfig, visionConfig, image, video,
                f.intOr("vision_start_token_id", 151652), f.intOr("vision_end_token_id", 151653), sections);
    }

    /** The language-model tokens one item of grid (t, h, w) becomes: t * h * w / merge^2. */
    public int tokensFor(int t, int h, int w) {
        int m = vision.mergeSize();
        return t * (h / m) * (w / m);
    }
}
