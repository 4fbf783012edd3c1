package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.ModelConfig;

/**
 * A Qwen2AudioForConditionalGeneration's config.json: the audio tower ({@code audio_config}), the
 * Qwen2 decoder ({@code text_config}) and the id of {@code <|AUDIO|>}, whose embeddings the audio
 * rows replace. transformers 4 calls it {@code audio_token_index}, 5 writes both spellings.
 */
public record Qwen2AudioConfig(Qwen2AudioEncoderConfig audio, ModelConfig text, int audioTokenId) {

    public static final String ARCHITECTURE = "Qwen2AudioForConditionalGeneration";
    public static final String MODEL_TYPE = "qwen2_audio";
    /** Qwen2-Audio-7B's id, the class default when the file names none. */
    private static final int DEFAULT_AUDIO_TOKEN_ID = 151646;

    public static Qwen2AudioConfig parse(JsonFields f) {
        JsonFields audio = f.object("audio_config");
        if (audio == null) {
            audio = new JsonFields(JsonFields.MAPPER.createObjectNode(), f.file(), "audio_config.");
        }
        JsonFields text = f.object("text_config");
        if (text == null) {
            throw f.invalid("text_config", "absent", "a Qwen2-Audio config needs its text_config (the Qwen2 decoder)");
        }
        int audioToken = f.intOr("audio_token_id", f.intOr("audio_token_index", DEFAULT_AUDIO_TOKEN_ID));
        ModelConfig textConfig = ModelConfig.parse(text, "qwen2");
        if (audioToken < 0 || audioToken >= textConfig.vocabSize()) {
            throw f.invalid("audio_token_index", audioToken, "must be a token of the " + textConfig.vocabSize()
                    + "-token vocabulary");
        }
        return new Qwen2AudioConfig(Qwen2AudioEncoderConfig.parse(audio), textConfig, audioToken);
    }
}
