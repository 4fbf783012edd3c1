package io.sparkmm.engine.models.qwen2vl;

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
 * Writes tiny random Qwen2-VL / Qwen2.5-VL checkpoints in either real on-disk generation: the
 * Hub's ({@link Layout#HUB}: flat config.json with the decoder's keys at the top and
 * {@code rope_scaling: {type: mrope}}, tensors {@code model.layers.*}, {@code visual.*}) or
 * transformers 5's ({@link Layout#TRANSFORMERS_5}: nested {@code text_config} with
 * {@code rope_parameters}, tensors {@code model.language_model.*}, {@code model.visual.*}), with
 * {@link TinyTokenizer} plus Qwen2-VL's vision tokens, a Qwen2-VL-style chat template (in
 * tokenizer_config.json and chat_template.json, as the Hub's repositories have it), a
 * Qwen2VLImageProcessor preprocessor_config.json and a Qwen2VLVideoProcessor
 * video_preprocessor_config.json. Weights are deterministic in the seed, one
 * stream per tensor name (see {@link TinyCheckpoint}).
 */
public final class TinyQwen2VlCheckpoint {

    public enum Layout { HUB, TRANSFORMERS_5 }

    public static final String VISION_START = "<|vision_start|>";
    public static final String VISION_END = "<|vision_end|>";
    public static final String IMAGE_PAD = "<|image_pad|>";
    public static final String VIDEO_PAD = "<|video_pad|>";
    public static final int VISION_START_ID = TinyTokenizer.VOCAB_SIZE;
    public static final int VISION_END_ID = VISION_START_ID + 1;
    public static final int IMAGE_PAD_ID = VISION_START_ID + 2;
    public static final int VIDEO_PAD_ID = VISION_START_ID + 3;
    public static final int VOCAB_SIZE = VISION_START_ID + 4;
    /** Image processor budget: 56x56 .. 448x448 pixels, so a tiny test image spans a few 2.5-VL windows. */
    public static final int MIN_PIXELS = 56 * 56;
    public static final int MAX_PIXELS = 448 * 448;
    public static final int VIDEO_MAX_PIXELS = 112 * 112;
    public static final int MAX_FRAMES = 8;

    /** ChatML, media entries as Qwen2-VL's template writes them. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
            + "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
            + "{% for item in message['content'] %}{% if item['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
            + "{% elif item['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
            + "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
            + "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    /**
     * @param text the decoder (Qwen2; its vocabulary becomes {@link #VOCAB_SIZE}); its dtype, seed and
     *             tie flag are the checkpoint's
     */
    public record Spec(boolean qwen25, Layout layout, TinyCheckpoint.Spec text, int[] mropeSection, int visionDim,
                       int visionMlp, int visionDepth, int visionHeads, int windowSize, List<Integer> fullAttBlocks,
                       int tokensPerSecond) {

        public Spec {
            mropeSection = mropeSection.clone();
            fullAttBlocks = List.copyOf(fullAttBlocks);
        }

        public static Spec qwen2Vl() {
            return new Spec(false, Layout.HUB, text(false), new int[] {2, 3, 3}, 32, 64, 2, 2, 0, List.of(), 0);
        }

        public static Spec qwen25Vl() {
            return new Spec(true, Layout.TRANSFORMERS_5, text(true), new int[] {2, 3, 3}, 32, 64, 3, 2, 112, List.of(1), 2);
        }

        private static TinyCheckpoint.Spec text(boolean tie) {
            return new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.QWEN2, 64, 128, 2, 4, 2, tie, DType.F32, 7,
                    4096, 10000.0, null);
        }

        public Spec withLayout(Layout l) {
            return new Spec(qwen25, l, text, mropeSection, visionDim, visionMlp, visionDepth, visionHeads, windowSize,
                    fullAttBlocks, tokensPerSecond);
        }

        public Spec withText(TinyCheckpoint.Spec t) {
            return new Spec(qwen25, layout, t, mropeSection, visionDim, visionMlp, visionDepth, visionHeads, windowSize,
                    fullAttBlocks, tokensPerSecond);
        }

        public Spec withDtype(DType d) {
            return withText(text.withDtype(d));
        }

        public Spec withSeed(long seed) {
            return withText(text.withSeed(seed));
        }
    }

    private TinyQwen2VlCheckpoint() {
    }

    public static Path write(Path dir, Spec spec) {
        Map<String, ObjectNode> json = new LinkedHashMap<>();
        json.put(Checkpoint.CONFIG, configJson(spec));
        json.put(GenerationConfig.FILE_NAME, TinyCheckpoint.generationConfigJson());
        json.put("tokenizer.json", tokenizerJson());
        json.put("tokenizer_config.json", tokenizerConfigJson(spec));
        // the processor's own copy, as Qwen2-VL's Hub repositories ship it (HF's processor reads only this one)
        json.put("chat_template.json", TinyCheckpoint.chatTemplateJson(CHAT_TEMPLATE));
        json.put(Qwen2VlProcessor.PREPROCESSOR_CONFIG, preprocessorConfigJson(spec));
        json.put(Qwen2VlProcessor.VIDEO_PREPROCESSOR_CONFIG, videoPreprocessorConfigJson(spec));
        return TinyCheckpoint.writeFiles(dir, json, weights(spec));
    }

    static SafetensorsWriter weights(Spec s) {
        TinyCheckpoint.Spec t = s.text();
        SafetensorsWriter w = new SafetensorsWriter();
        boolean hub = s.layout() == Layout.HUB;
        TinyCheckpoint.textWeights(w, t, VOCAB_SIZE, hub ? "model." : "model.language_model.", "lm_head.weight");
        String v = hub ? "visual." : "model.visual.";
        int d = s.visionDim();
        int f = s.visionMlp();
        TinyCheckpoint.normal(w, t, v + "patch_embed.proj.weight", 1.0 / Math.sqrt(3 * 2 * 14 * 14), d, 3, 2, 14, 14);
        for (int i = 0; i < s.visionDepth(); i++) {
            String b = v + "blocks." + i + ".";
            norm(w, t, b + "norm1", d, !s.qwen25());
            norm(w, t, b + "norm2", d, !s.qwen25());
            TinyCheckpoint.linear(w, t, b + "attn.qkv", 3 * d, d, true);
            TinyCheckpoint.linear(w, t, b + "attn.proj", d, d, true);
            if (s.qwen25()) {
                TinyCheckpoint.linear(w, t, b + "mlp.gate_proj", f, d, true);
                TinyCheckpoint.linear(w, t, b + "mlp.up_proj", f, d, true);
                TinyCheckpoint.linear(w, t, b + "mlp.down_proj", d, f, true);
            } else {
                TinyCheckpoint.linear(w, t, b + "mlp.fc1", f, d, true);
                TinyCheckpoint.linear(w, t, b + "mlp.fc2", d, f, true);
            }
        }
        int merged = 4 * d;
        norm(w, t, v + "merger.ln_q", d, !s.qwen25());
        TinyCheckpoint.linear(w, t, v + "merger.mlp.0", merged, merged, true);
        TinyCheckpoint.linear(w, t, v + "merger.mlp.2", t.hiddenSize(), merged, true);
        return w;
    }

    private static void norm(SafetensorsWriter w, TinyCheckpoint.Spec t, String prefix, int d, boolean bias) {
        TinyCheckpoint.norm(w, t, prefix + ".weight", d);
        if (bias) {
            TinyCheckpoint.normal(w, t, prefix + ".bias", 0.1, d);
        }
    }

    static ObjectNode configJson(Spec s) {
        ObjectNode c = JsonFields.MAPPER.createObjectNode();
        c.putArray("architectures").add(s.qwen25() ? Qwen2VlConfig.QWEN2_5_VL : Qwen2VlConfig.QWEN2_VL);
        c.put("image_token_id", IMAGE_PAD_ID);
        c.put("model_type", s.qwen25() ? "qwen2_5_vl" : "qwen2_vl");
        ObjectNode text = TinyCheckpoint.configJson(s.text());
        text.remove(List.of("architectures", "rope_scaling", "rope_theta", "sliding_window", "tie_word_embeddings"));
        text.put("vocab_size", VOCAB_SIZE);
        ObjectNode rope = JsonFields.MAPPER.createObjectNode();
        ArrayNode sections = rope.putArray("mrope_section");
        for (int x : s.mropeSection()) {
            sections.add(x);
        }
        String dtype = text.get("torch_dtype").asText();
        if (s.layout() == Layout.HUB) {
            text.remove("model_type");
            rope.put("type", "mrope");
            text.set("rope_scaling", rope);
            text.put("rope_theta", s.text().ropeTheta());
            c.setAll(text);
        } else {
            text.remove("torch_dtype");
            text.put("dtype", dtype);
            text.put("model_type", s.qwen25() ? "qwen2_5_vl_text" : "qwen2_vl_text");
            rope.put("rope_theta", s.text().ropeTheta());
            rope.put("rope_type", "default");
            text.set("rope_parameters", rope);
            c.set("text_config", text);
            c.remove("torch_dtype");
            c.put("dtype", dtype);
        }
        c.put("tie_word_embeddings", s.text().tieWordEmbeddings());
        c.put("video_token_id", VIDEO_PAD_ID);
        c.put("vision_end_token_id", VISION_END_ID);
        c.put("vision_start_token_id", VISION_START_ID);
        ObjectNode v = c.putObject("vision_config");
        v.put("depth", s.visionDepth());
        v.put("in_channels", 3);
        v.put("num_heads", s.visionHeads());
        v.put("patch_size", 14);
        v.put("spatial_merge_size", 2);
        v.put("temporal_patch_size", 2);
        if (s.qwen25()) {
            ArrayNode full = v.putArray("fullatt_block_indexes");
            s.fullAttBlocks().forEach(full::add);
            v.put("hidden_act", "silu");
            v.put("hidden_size", s.visionDim());
            v.put("intermediate_size", s.visionMlp());
            v.put("model_type", "qwen2_5_vl");
            v.put("out_hidden_size", s.text().hiddenSize());
            v.put("tokens_per_second", s.tokensPerSecond());
            v.put("window_size", s.windowSize());
        } else {
            v.put("embed_dim", s.visionDim());
            v.put("hidden_act", "quick_gelu");
            v.put("hidden_size", s.text().hiddenSize());
            v.put("mlp_ratio", s.visionMlp() / s.visionDim());
            v.put("model_type", "qwen2_vl");
        }
        return c;
    }

    static ObjectNode tokenizerJson() {
        return TinyTokenizer.tokenizerJson(VISION_START_ID, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD);
    }

    static ObjectNode tokenizerConfigJson(Spec s) {
        ObjectNode root = TinyTokenizer.tokenizerConfigJson(s.text().maxPositionEmbeddings(),
                VISION_START_ID, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD);
        root.put("chat_template", CHAT_TEMPLATE);
        root.put("processor_class", s.qwen25() ? "Qwen2_5_VLProcessor" : "Qwen2VLProcessor");
        return root;
    }

    /**
     * Qwen2VLVideoProcessor's file: the image settings, a smaller pixel budget per frame, and
     * sampling at 2 fps, 2 to {@value #MAX_FRAMES} frames.
     */
    static ObjectNode videoPreprocessorConfigJson(Spec s) {
        ObjectNode p = preprocessorConfigJson(s);
        p.remove(List.of("image_processor_type", "min_pixels", "max_pixels"));
        p.put("video_processor_type", "Qwen2VLVideoProcessor");
        p.put("do_sample_frames", true);
        p.put("fps", 2.0);
        p.put("min_frames", 2);
        p.put("max_frames", MAX_FRAMES);
        ObjectNode size = p.putObject("size");
        size.put("longest_edge", VIDEO_MAX_PIXELS);
        size.put("shortest_edge", MIN_PIXELS);
        return p;
    }

    static ObjectNode preprocessorConfigJson(Spec s) {
        ObjectNode p = JsonFields.MAPPER.createObjectNode();
        p.put("do_convert_rgb", true);
        p.put("do_normalize", true);
        p.put("do_rescale", true);
        p.put("do_resize", true);
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
        p.put("merge_size", 2);
        p.put("min_pixels", MIN_PIXELS);
        p.put("patch_size", 14);
        p.put("processor_class", s.qwen25() ? "Qwen2_5_VLProcessor" : "Qwen2VLProcessor");
        p.put("resample", 3);
        p.put("rescale_factor", 1.0 / 255);
        ObjectNode size = p.putObject("size");
        size.put("longest_edge", MAX_PIXELS);
        size.put("shortest_edge", MIN_PIXELS);
        p.put("temporal_patch_size", 2);
        return p;
    }
}
