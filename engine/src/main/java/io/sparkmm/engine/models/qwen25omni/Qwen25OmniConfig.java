package io.sparkmm.engine.models.qwen25omni;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlConfig;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlVisionConfig;

import java.util.Map;

/**
 * The thinker of Qwen2.5-Omni (transformers' Qwen2_5OmniThinkerConfig): a Whisper-style audio tower
 * ({@code audio_config}), the Qwen2.5-VL vision tower ({@code vision_config}), a Qwen2 decoder with
 * M-RoPE ({@code text_config}), the media token ids and TMRoPE's time scale. Read from a thinker's own
 * config.json or from the {@code thinker_config} of a whole Omni checkpoint
 * (Qwen2_5OmniForConditionalGeneration, whose talker and vocoder are not loaded: text output only).
 *
 * @param positionIdPerSeconds temporal positions per second of media (25: one per audio token)
 * @param secondsPerChunk      length of the time chunks a video's own audio is interleaved in
 */
public record Qwen25OmniConfig(OmniAudioConfig audio, Qwen2VlVisionConfig vision, ModelConfig text, int[] mropeSection,
                               int audioTokenId, int imageTokenId, int videoTokenId, int audioStartTokenId,
                               int audioEndTokenId, int visionStartTokenId, int visionEndTokenId,
                               double positionIdPerSeconds, double secondsPerChunk) {

    public static final String THINKER = "Qwen2_5OmniThinkerForConditionalGeneration";
    public static final String OMNI = "Qwen2_5OmniForConditionalGeneration";
    /** The architecture name the Hub's Qwen2.5-Omni config.json carries (vLLM registers it too). */
    public static final String OMNI_MODEL = "Qwen2_5OmniModel";

    /** Qwen2_5OmniTextConfig's defaults, for keys a file leaves out (Qwen2VlConfig would put Qwen2-VL's). */
    private static final Map<String, Object> TEXT_DEFAULTS = Map.of("vocab_size", 152064, "hidden_size", 3584,
            "intermediate_size", 18944, "num_hidden_layers", 28, "num_attention_heads", 28, "num_key_value_heads", 4,
            "max_position_embeddings", 32768, "rms_norm_eps", 1e-6);

    public Qwen25OmniConfig {
        mropeSection = mropeSection.clone();
    }

    @Override
    public int[] mropeSection() {
        return mropeSection.clone();
    }

    /** True when config.json is a whole Omni model's: the thinker sits under {@code thinker_config}. */
    public static boolean isWholeOmni(JsonFields root) {
        return root.object("thinker_config") != null;
    }

    public static Qwen25OmniConfig parse(JsonFields root) {
        JsonFields f = isWholeOmni(root) ? root.object("thinker_config") : root;
        JsonFields audio = f.object("audio_config");
        if (audio == null) {
            audio = new JsonFields(JsonFields.MAPPER.createObjectNode(), f.file(), f.path("audio_config") + ".");
        }
        JsonFields text = f.object("text_config");
        if (text == null) {
            throw f.invalid("text_config", "absent", "a Qwen2.5-Omni thinker config needs its text_config");
        }
        int image = f.intOr("image_token_index", f.intOr("image_token_id", 151655));
        int video = f.intOr("video_token_index", f.intOr("video_token_id", 151656));
        // The decoder and vision tower are Qwen2.5-VL's: let its parser check them, with Omni's names and defaults.
        ObjectNode vl = JsonFields.MAPPER.createObjectNode();
        ObjectNode textNode = ((ObjectNode) text.node()).deepCopy();
        TEXT_DEFAULTS.forEach((k, v) -> {
            if (!textNode.has(k)) {
                textNode.set(k, JsonFields.MAPPER.valueToTree(v));
            }
        });
        vl.set("text_config", textNode);
        if (f.has("vision_config")) {
            vl.set("vision_config", f.node().get("vision_config"));
        }
        vl.put("image_token_id", image);
        vl.put("video_token_id", video);
        vl.put("tie_word_embeddings", f.boolOr("tie_word_embeddings", false));
        Qwen2VlConfig c = Qwen2VlConfig.parse(new JsonFields(vl, f.file(), f.path("")), Qwen2VlConfig.QWEN2_5_VL);
        OmniAudioConfig audioConfig = OmniAudioConfig.parse(audio);
        if (audioConfig.outputDim() != c.text().hiddenSize()) {
            throw audio.invalid("output_dim", audioConfig.outputDim(), "must be the decoder's hidden_size "
                    + c.text().hiddenSize());
        }
        int audioToken = f.intOr("audio_token_index", f.intOr("audio_token_id", 151646));
        int vocab = c.text().vocabSize();
        int[] ids = {audioToken, f.intOr("audio_start_token_id", 151647), f.intOr("audio_end_token_id", 151648),
            f.intOr("vision_start_token_id", 151652), f.intOr("vision_end_token_id", 151653)};
        String[] keys = {"audio_token_index", "audio_start_token_id", "audio_end_token_id", "vision_start_token_id",
            "vision_end_token_id"};
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw f.invalid(keys[i], ids[i], "outside the vocabulary [0, " + vocab + ")");
            }
        }
        double perSecond = f.doubleOr("position_id_per_seconds", 25);
        double chunk = f.doubleOr("seconds_per_chunk", 2);
        if (!(perSecond > 0) || !(chunk > 0) || (int) (perSecond * chunk) < 1) {
            throw f.invalid("position_id_per_seconds", perSecond, "with seconds_per_chunk " + chunk
                    + " must give at least one position per chunk");
        }
        return new Qwen25OmniConfig(audioConfig, c.vision(), c.text(), c.mropeSection(), audioToken, image, video,
                ids[1], ids[2], ids[3], ids[4], perSecond, chunk);
    }

    /** Temporal positions per chunk of interleaved video and audio: int(position_id_per_seconds * seconds_per_chunk). */
    public int positionsPerChunk() {
        return (int) (positionIdPerSeconds * secondsPerChunk);
    }

    /** Language-model tokens of a vision item of grid (t, h, w): t * h * w / merge^2. */
    public int visionTokens(int t, int h, int w) {
        int m = vision.mergeSize();
        return t * (h / m) * (w / m);
    }
}
