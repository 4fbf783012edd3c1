package io.sparkmm.engine.models.qwen2audio;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.checkpoint.TinyTokenizer;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.kernels.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a tiny random Qwen2-Audio checkpoint in the Hub's layout (what {@code Qwen/Qwen2-Audio-7B-Instruct}
 * ships): config.json with nested {@code audio_config} and {@code text_config} and
 * {@code audio_token_index}; tensors {@code audio_tower.*}, {@code multi_modal_projector.linear.*},
 * {@code language_model.model.*} and {@code language_model.lm_head.weight}; {@link TinyTokenizer} plus
 * the three audio tokens; Qwen2-Audio-Instruct's chat template in tokenizer_config.json; the
 * WhisperFeatureExtractor settings (128 mels, 16 kHz, 30 s) in preprocessor_config.json. Weights are
 * deterministic in the seed, one stream per tensor name (see {@link TinyCheckpoint}), in the text
 * spec's dtype.
 */
public final class TinyQwen2AudioCheckpoint {

    public static final String AUDIO_BOS = "<|audio_bos|>";
    public static final String AUDIO = "<|AUDIO|>";
    public static final String AUDIO_EOS = "<|audio_eos|>";
    public static final int AUDIO_BOS_ID = TinyTokenizer.VOCAB_SIZE;
    public static final int AUDIO_ID = AUDIO_BOS_ID + 1;
    public static final int AUDIO_EOS_ID = AUDIO_BOS_ID + 2;
    public static final int VOCAB_SIZE = AUDIO_BOS_ID + 3;
    private static final int MELS = 128;
    private static final int SOURCE_POSITIONS = 1500;

    /** Qwen2-Audio-Instruct's template: a default system turn, and "Audio N: " before each clip's tokens. */
    public static final String CHAT_TEMPLATE = "{% set audio_count = namespace(value=0) %}{% for message in messages %}"
            + "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant."
            + "<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
            + "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
            + "{% if 'audio' in content or 'audio_url' in content or message['type'] == 'audio' or content['type'] == 'audio' %}"
            + "{% set audio_count.value = audio_count.value + 1 %}Audio {{ audio_count.value }}: "
            + "<|audio_bos|><|AUDIO|><|audio_eos|>\n{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
            + "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
            + "{% endif %}";

    /**
     * @param text the decoder (Qwen2, untied as the Hub's model is; its vocabulary becomes
     *             {@link #VOCAB_SIZE}); its dtype and seed are the checkpoint's
     */
    public record Spec(TinyCheckpoint.Spec text, int audioDim, int audioFfn, int audioLayers, int audioHeads) {

        public static Spec tiny() {
            return new Spec(new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.QWEN2, 64, 128, 2, 4, 2, false,
                    DType.F32, 41, 4096, 10000.0, null), 32, 64, 2, 2);
        }

        public Spec withDtype(DType d) {
            return new Spec(text.withDtype(d), audioDim, audioFfn, audioLayers, audioHeads);
        }

        public Spec withSeed(long seed) {
            return new Spec(text.withSeed(seed), audioDim, audioFfn, audioLayers, audioHeads);
        }
    }

    private TinyQwen2AudioCheckpoint() {
    }

    public static Path write(Path dir, Spec spec) {
        Map<String, ObjectNode> json = new LinkedHashMap<>();
        json.put(Checkpoint.CONFIG, configJson(spec));
        json.put(GenerationConfig.FILE_NAME, TinyCheckpoint.generationConfigJson());
        json.put("tokenizer.json", tokenizerJson());
        json.put("tokenizer_config.json", tokenizerConfigJson(spec));
        json.put("preprocessor_config.json", preprocessorConfigJson());
        return TinyCheckpoint.writeFiles(dir, json, weights(spec));
    }

    static SafetensorsWriter weights(Spec s) {
        TinyCheckpoint.Spec t = s.text();
        SafetensorsWriter w = new SafetensorsWriter();
        TinyCheckpoint.textWeights(w, t, VOCAB_SIZE, "language_model.model.", "language_model.lm_head.weight");
        String a = "audio_tower.";
        int d = s.audioDim();
        whisperTower(w, t, a, MELS, d, s.audioFfn(), s.audioLayers());
        TinyCheckpoint.normal(w, t, a + "embed_positions.weight", 0.5, SOURCE_POSITIONS, d);
        TinyCheckpoint.layerNorm(w, t, a + "layer_norm", d);
        TinyCheckpoint.linear(w, t, "multi_modal_projector.linear", t.hiddenSize(), d, true);
        return w;
    }

    /**
     * A Whisper-style audio tower's convolutions and encoder layers under {@code a} (Qwen2-Audio's and
     * Qwen2.5-Omni's share them; positions and the closing norm differ and are the caller's).
     */
    public static void whisperTower(SafetensorsWriter w, TinyCheckpoint.Spec t, String a, int mels, int d, int ffn,
                                    int layers) {
        TinyCheckpoint.normal(w, t, a + "conv1.weight", 1.0 / Math.sqrt(3 * mels), d, mels, 3);
        TinyCheckpoint.normal(w, t, a + "conv1.bias", 0.1, d);
        TinyCheckpoint.normal(w, t, a + "conv2.weight", 1.0 / Math.sqrt(3 * d), d, d, 3);
        TinyCheckpoint.normal(w, t, a + "conv2.bias", 0.1, d);
        for (int i = 0; i < layers; i++) {
            String l = a + "layers." + i + ".";
            TinyCheckpoint.layerNorm(w, t, l + "self_attn_layer_norm", d);
            TinyCheckpoint.linear(w, t, l + "self_attn.q_proj", d, d, true);
            TinyCheckpoint.linear(w, t, l + "self_attn.k_proj", d, d, false);   // Whisper's key projection has no bias
            TinyCheckpoint.linear(w, t, l + "self_attn.v_proj", d, d, true);
            TinyCheckpoint.linear(w, t, l + "self_attn.out_proj", d, d, true);
            TinyCheckpoint.layerNorm(w, t, l + "final_layer_norm", d);
            TinyCheckpoint.linear(w, t, l + "fc1", ffn, d, true);
            TinyCheckpoint.linear(w, t, l + "fc2", d, ffn, true);
        }
    }

    static ObjectNode configJson(Spec s) {
        ObjectNode c = JsonFields.MAPPER.createObjectNode();
        c.putArray("architectures").add("Qwen2AudioForConditionalGeneration");
        ObjectNode audio = c.putObject("audio_config");
        audio.put("activation_dropout", 0.0);
        audio.put("activation_function", "gelu");
        audio.put("attention_dropout", 0.0);
        audio.put("d_model", s.audioDim());
        audio.put("dropout", 0.0);
        audio.put("encoder_attention_heads", s.audioHeads());
        audio.put("encoder_ffn_dim", s.audioFfn());
        audio.put("encoder_layerdrop", 0.0);
        audio.put("encoder_layers", s.audioLayers());
        audio.put("init_std", 0.02);
        audio.put("max_source_positions", SOURCE_POSITIONS);
        audio.put("model_type", "qwen2_audio_encoder");
        audio.put("num_mel_bins", MELS);
        audio.put("scale_embedding", false);
        c.put("audio_token_index", AUDIO_ID);
        c.put("ignore_index", -100);
        c.put("model_type", "qwen2_audio");
        ObjectNode text = TinyCheckpoint.configJson(s.text());
        text.remove(List.of("architectures"));
        text.put("vocab_size", VOCAB_SIZE);
        c.set("text_config", text);
        c.put("torch_dtype", text.get("torch_dtype").asText());
        c.put("vocab_size", VOCAB_SIZE);
        return c;
    }

    static ObjectNode tokenizerJson() {
        return TinyTokenizer.tokenizerJson(AUDIO_BOS_ID, AUDIO_BOS, AUDIO, AUDIO_EOS);
    }

    static ObjectNode tokenizerConfigJson(Spec s) {
        ObjectNode root = TinyTokenizer.tokenizerConfigJson(s.text().maxPositionEmbeddings(),
                AUDIO_BOS_ID, AUDIO_BOS, AUDIO, AUDIO_EOS);
        root.put("chat_template", CHAT_TEMPLATE);
        root.put("processor_class", "Qwen2AudioProcessor");
        return root;
    }

    /** Qwen2-Audio's WhisperFeatureExtractor settings, as its Hub repositories ship them. */
    static ObjectNode preprocessorConfigJson() {
        ObjectNode p = JsonFields.MAPPER.createObjectNode();
        p.put("chunk_length", 30);
        p.put("feature_extractor_type", "WhisperFeatureExtractor");
        p.put("feature_size", MELS);
        p.put("hop_length", 160);
        p.put("n_fft", 400);
        p.put("n_samples", 480000);
        p.put("nb_max_frames", 3000);
        p.put("padding_side", "right");
        p.put("padding_value", 0.0);
        p.put("processor_class", "Qwen2AudioProcessor");
        p.put("return_attention_mask", true);
        p.put("sampling_rate", 16000);
        return p;
    }
}
