package io.sparkmm.engine.models.qwen25omni;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.checkpoint.TinyTokenizer;
import io.sparkmm.engine.models.qwen2audio.TinyQwen2AudioCheckpoint;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.kernels.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a tiny random Qwen2.5-Omni checkpoint in the Hub's whole-model layout (what
 * {@code Qwen/Qwen2.5-Omni-7B} ships): config.json of model_type {@code qwen2_5_omni} with the thinker
 * under {@code thinker_config} (nested {@code audio_config}, {@code vision_config}, {@code text_config}
 * with {@code rope_scaling.mrope_section}) and {@code enable_audio_output: false}, tensors
 * {@code thinker.model.*}, {@code thinker.lm_head.weight}, {@code thinker.audio_tower.*} and
 * {@code thinker.visual.*} (no talker, no vocoder: the engine outputs text only); {@link TinyTokenizer}
 * plus Omni's seven media tokens; an Omni-style chat template (tokenizer_config.json and
 * chat_template.json); and one flat preprocessor_config.json holding the WhisperFeatureExtractor
 * (128 mels, 300 s) and Qwen2VLImageProcessor settings, as the Hub's repository has it. Weights are
 * deterministic in the seed, one stream per tensor name (see {@link TinyCheckpoint}), in the text spec's
 * dtype.
 */
public final class TinyQwen25OmniCheckpoint {

    public static final String AUDIO = "<|AUDIO|>";
    public static final String AUDIO_BOS = "<|audio_bos|>";
    public static final String AUDIO_EOS = "<|audio_eos|>";
    public static final String VISION_BOS = "<|vision_bos|>";
    public static final String VISION_EOS = "<|vision_eos|>";
    public static final String IMAGE = "<|IMAGE|>";
    public static final String VIDEO = "<|VIDEO|>";
    /** The media tokens in id order (the Hub's relative order: audio, its bounds, vision bounds, image, video). */
    static final String[] MEDIA_TOKENS = {AUDIO, AUDIO_BOS, AUDIO_EOS, VISION_BOS, VISION_EOS, IMAGE, VIDEO};
    public static final int AUDIO_ID = TinyTokenizer.VOCAB_SIZE;
    public static final int AUDIO_BOS_ID = AUDIO_ID + 1;
    public static final int AUDIO_EOS_ID = AUDIO_ID + 2;
    public static final int VISION_BOS_ID = AUDIO_ID + 3;
    public static final int VISION_EOS_ID = AUDIO_ID + 4;
    public static final int IMAGE_ID = AUDIO_ID + 5;
    public static final int VIDEO_ID = AUDIO_ID + 6;
    public static final int VOCAB_SIZE = AUDIO_ID + MEDIA_TOKENS.length;
    private static final int MELS = 128;
    private static final int PATCH = 14;
    private static final int MERGE = 2;
    private static final int TEMPORAL_PATCH = 2;
    private static final int MIN_PIXELS = 56 * 56;
    private static final int MAX_PIXELS = 28 * 28 * 16384;

    /** Qwen2.5-Omni's template: a default system turn; each media entry becomes its placeholder with bounds. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}"
            + "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant."
            + "<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
            + "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
            + "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
            + "<|vision_bos|><|IMAGE|><|vision_eos|>"
            + "{% elif content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}"
            + "<|audio_bos|><|AUDIO|><|audio_eos|>"
            + "{% elif content['type'] == 'video' or 'video' in content %}<|vision_bos|><|VIDEO|><|vision_eos|>"
            + "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}"
            + "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    /**
     * @param text the decoder (Qwen2, untied as the Hub's thinker is; its vocabulary becomes
     *             {@link #VOCAB_SIZE}); its dtype and seed are the checkpoint's
     */
    public record Spec(TinyCheckpoint.Spec text, int[] mropeSection, int audioDim, int audioFfn, int audioLayers,
                       int audioHeads, int audioWindow, int visionDim, int visionMlp, int visionDepth, int visionHeads,
                       int windowSize, List<Integer> fullAttBlocks) {

        public Spec {
            mropeSection = mropeSection.clone();
            fullAttBlocks = List.copyOf(fullAttBlocks);
        }

        public static Spec tiny() {
            return new Spec(new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.QWEN2, 64, 128, 2, 4, 2, false,
                    DType.F32, 47, 4096, 10000.0, null), new int[] {2, 3, 3}, 32, 64, 2, 2, 100, 32, 64, 2, 2, 56,
                    List.of(1));
        }

        public Spec withText(TinyCheckpoint.Spec t) {
            return new Spec(t, mropeSection, audioDim, audioFfn, audioLayers, audioHeads, audioWindow, visionDim,
                    visionMlp, visionDepth, visionHeads, windowSize, fullAttBlocks);
        }

        public Spec withDtype(DType d) {
            return withText(text.withDtype(d));
        }

        public Spec withSeed(long seed) {
            return withText(text.withSeed(seed));
        }
    }

    private TinyQwen25OmniCheckpoint() {
    }

    public static Path write(Path dir, Spec spec) {
        Map<String, ObjectNode> json = new LinkedHashMap<>();
        json.put(Checkpoint.CONFIG, configJson(spec));
        json.put(GenerationConfig.FILE_NAME, TinyCheckpoint.generationConfigJson());
        json.put("tokenizer.json", TinyTokenizer.tokenizerJson(AUDIO_ID, MEDIA_TOKENS));
        json.put("tokenizer_config.json", tokenizerConfigJson(spec));
        // the processor's own copy, as the Hub's repository ships it (transformers' processor reads this one)
        json.put("chat_template.json", TinyCheckpoint.chatTemplateJson(CHAT_TEMPLATE));
        json.put("preprocessor_config.json", preprocessorConfigJson());
        return TinyCheckpoint.writeFiles(dir, json, weights(spec));
    }

    static SafetensorsWriter weights(Spec s) {
        TinyCheckpoint.Spec t = s.text();
        SafetensorsWriter w = new SafetensorsWriter();
        TinyCheckpoint.textWeights(w, t, VOCAB_SIZE, "thinker.model.", "thinker.lm_head.weight");
        audioWeights(w, s, "thinker.audio_tower.");
        visionWeights(w, s, "thinker.visual.");
        return w;
    }

    private static void audioWeights(SafetensorsWriter w, Spec s, String a) {
        TinyCheckpoint.Spec t = s.text();
        int d = s.audioDim();
        TinyQwen2AudioCheckpoint.whisperTower(w, t, a, MELS, d, s.audioFfn(), s.audioLayers());
        TinyCheckpoint.layerNorm(w, t, a + "ln_post", d);
        TinyCheckpoint.linear(w, t, a + "proj", t.hiddenSize(), d, true);
        // the audio-output bounds the thinker's tower keeps; text-only inference never reads them
        TinyCheckpoint.normal(w, t, a + "audio_bos_eos_token.weight", 1.0, 2, t.hiddenSize());
    }

    private static void visionWeights(SafetensorsWriter w, Spec s, String v) {
        TinyCheckpoint.Spec t = s.text();
        int d = s.visionDim();
        int f = s.visionMlp();
        TinyCheckpoint.normal(w, t, v + "patch_embed.proj.weight", 1.0 / Math.sqrt(3 * TEMPORAL_PATCH * PATCH * PATCH),
                d, 3, TEMPORAL_PATCH, PATCH, PATCH);
        for (int i = 0; i < s.visionDepth(); i++) {
            String b = v + "blocks." + i + ".";
            TinyCheckpoint.norm(w, t, b + "norm1.weight", d);
            TinyCheckpoint.norm(w, t, b + "norm2.weight", d);
            for (String p : new String[] {"q", "k", "v", "proj"}) {
                TinyCheckpoint.linear(w, t, b + "attn." + p, d, d, true);
            }
            TinyCheckpoint.linear(w, t, b + "mlp.gate_proj", f, d, true);
            TinyCheckpoint.linear(w, t, b + "mlp.up_proj", f, d, true);
            TinyCheckpoint.linear(w, t, b + "mlp.down_proj", d, f, true);
        }
        int merged = MERGE * MERGE * d;
        TinyCheckpoint.norm(w, t, v + "merger.ln_q.weight", d);
        TinyCheckpoint.linear(w, t, v + "merger.mlp.0", merged, merged, true);
        TinyCheckpoint.linear(w, t, v + "merger.mlp.2", t.hiddenSize(), merged, true);
    }

    static ObjectNode configJson(Spec s) {
        ObjectNode c = JsonFields.MAPPER.createObjectNode();
        c.putArray("architectures").add("Qwen2_5OmniModel");
        c.put("enable_audio_output", false);
        c.put("model_type", "qwen2_5_omni");
        ObjectNode th = c.putObject("thinker_config");
        ObjectNode audio = th.putObject("audio_config");
        audio.put("activation_function", "gelu");
        audio.put("d_model", s.audioDim());
        audio.put("encoder_attention_heads", s.audioHeads());
        audio.put("encoder_ffn_dim", s.audioFfn());
        audio.put("encoder_layers", s.audioLayers());
        audio.put("max_source_positions", 1500);
        audio.put("model_type", "qwen2_5_omni_audio_encoder");
        audio.put("n_window", s.audioWindow());
        audio.put("num_mel_bins", MELS);
        audio.put("output_dim", s.text().hiddenSize());
        audio.put("scale_embedding", false);
        th.put("audio_end_token_id", AUDIO_EOS_ID);
        th.put("audio_start_token_id", AUDIO_BOS_ID);
        th.put("audio_token_index", AUDIO_ID);
        th.put("image_token_index", IMAGE_ID);
        th.put("model_type", "qwen2_5_omni_thinker");
        th.put("position_id_per_seconds", 25);
        th.put("seconds_per_chunk", 2);
        ObjectNode text = TinyCheckpoint.configJson(s.text());
        text.remove(List.of("architectures", "rope_scaling", "bos_token_id", "eos_token_id"));
        text.put("model_type", "qwen2_5_omni_text");
        ObjectNode rope = text.putObject("rope_scaling");
        ArrayNode sections = rope.putArray("mrope_section");
        for (int x : s.mropeSection()) {
            sections.add(x);
        }
        rope.put("rope_type", "default");
        rope.put("type", "default");
        text.put("vocab_size", VOCAB_SIZE);
        th.set("text_config", text);
        th.put("torch_dtype", text.get("torch_dtype").asText());
        th.put("video_token_index", VIDEO_ID);
        th.put("vision_end_token_id", VISION_EOS_ID);
        th.put("vision_start_token_id", VISION_BOS_ID);
        ObjectNode v = th.putObject("vision_config");
        v.put("depth", s.visionDepth());
        ArrayNode full = v.putArray("fullatt_block_indexes");
        s.fullAttBlocks().forEach(full::add);
        v.put("hidden_act", "silu");
        v.put("hidden_size", s.visionDim());
        v.put("in_channels", 3);
        v.put("intermediate_size", s.visionMlp());
        v.put("model_type", "qwen2_5_omni_vision_encoder");
        v.put("num_heads", s.visionHeads());
        v.put("out_hidden_size", s.text().hiddenSize());
        v.put("patch_size", PATCH);
        v.put("spatial_merge_size", MERGE);
        v.put("temporal_patch_size", TEMPORAL_PATCH);
        v.put("window_size", s.windowSize());
        c.put("torch_dtype", text.get("torch_dtype").asText());
        return c;
    }

    static ObjectNode tokenizerConfigJson(Spec s) {
        ObjectNode root = TinyTokenizer.tokenizerConfigJson(s.text().maxPositionEmbeddings(), AUDIO_ID, MEDIA_TOKENS);
        // Qwen2_5OmniProcessor reads these names off the tokenizer
        root.put("audio_bos_token", AUDIO_BOS);
        root.put("audio_eos_token", AUDIO_EOS);
        root.put("audio_token", AUDIO);
        root.put("chat_template", CHAT_TEMPLATE);
        root.put("image_token", IMAGE);
        root.put("processor_class", "Qwen2_5OmniProcessor");
        root.put("video_token", VIDEO);
        root.put("vision_bos_token", VISION_BOS);
        root.put("vision_eos_token", VISION_EOS);
        return root;
    }

    /** The Hub's single file: WhisperFeatureExtractor (128 mels, 16 kHz, 300 s) and Qwen2VLImageProcessor settings. */
    static ObjectNode preprocessorConfigJson() {
        ObjectNode p = JsonFields.MAPPER.createObjectNode();
        p.put("chunk_length", 300);
        p.put("dither", 0.0);
        p.put("do_convert_rgb", true);
        p.put("do_normalize", true);
        p.put("do_rescale", true);
        p.put("do_resize", true);
        p.put("feature_extractor_type", "WhisperFeatureExtractor");
        p.put("feature_size", MELS);
        p.put("hop_length", 160);
        ArrayNode mean = p.putArray("image_mean");
        ArrayNode std = p.putArray("image_std");
        double[] clipMean = {0.48145466, 0.4578275, 0.40821073};
        double[] clipStd = {0.26862954, 0.26130258, 0.27577711};
        for (int i = 0; i < 3; i++) {
            mean.add(clipMean[i]);
            std.add(clipStd[i]);
        }
        p.put("image_processor_type", "Qwen2VLImageProcessor");
        p.put("max_pixels", MAX_PIXELS);
        p.put("merge_size", MERGE);
        p.put("min_pixels", MIN_PIXELS);
        p.put("n_fft", 400);
        p.put("n_samples", 4800000);
        p.put("nb_max_frames", 30000);
        p.put("padding_side", "right");
        p.put("padding_value", 0.0);
        p.put("patch_size", PATCH);
        p.put("processor_class", "Qwen2_5OmniProcessor");
        p.put("resample", 3);
        p.put("rescale_factor", 1.0 / 255);
        p.put("return_attention_mask", true);
        p.put("sampling_rate", 16000);
        p.put("temporal_patch_size", TEMPORAL_PATCH);
        return p;
    }
}
