package io.sparkmm.engine.models.llavaonevision;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.checkpoint.TinyTokenizer;
import io.sparkmm.engine.models.ProcessorSettings;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes tiny random LLaVA-OneVision checkpoints in the layout of the Hub's llava-hf repositories:
 * nested {@code text_config} (Qwen2, {@code rope_theta}) and {@code vision_config} (SigLIP without its
 * pooling head), tensors {@code language_model.model.*}, {@code language_model.lm_head.weight},
 * {@code vision_tower.vision_model.*}, {@code multi_modal_projector.*}, {@code image_newline}; a
 * {@code preprocessor_config.json} (LlavaOnevisionImageProcessor), a
 * {@code video_preprocessor_config.json} (LlavaOnevisionVideoProcessor), a {@code processor_config.json}
 * with the processor's own settings, and {@link TinyTokenizer} plus {@code <image>} and {@code <video>}
 * with a OneVision-style chat template (media entries as {@code <image>\n} / {@code <video>\n}).
 *
 * <p>The default geometry has 42-pixel tiles of 14-pixel patches: a 3 x 3 feature grid per tile, so a
 * video frame's 2 x 2 pooling interpolates (and clamps at the edge) rather than averaging, and AnyRes
 * unpadding and the anyres_max_2 shrink have rows to cut. Weights are deterministic in the seed, one
 * stream per tensor name (see {@link TinyCheckpoint}).
 */
public final class TinyLlavaOnevisionCheckpoint {

    public static final String IMAGE = "<image>";
    public static final String VIDEO = "<video>";
    public static final int IMAGE_ID = TinyTokenizer.VOCAB_SIZE;
    public static final int VIDEO_ID = IMAGE_ID + 1;
    public static final int VOCAB_SIZE = VIDEO_ID + 1;
    private static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    private static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};

    public static final String CHAT_TEMPLATE = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
            + "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
            + "{% for item in message['content'] %}{% if item['type'] == 'image' %}<image>\n"
            + "{% elif item['type'] == 'video' %}<video>\n"
            + "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
            + "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    /**
     * @param text          the Qwen2 decoder (its vocabulary becomes {@link #VOCAB_SIZE}); its dtype, seed,
     *                      context and tie flag are the checkpoint's
     * @param imageSize     the tile side in pixels (SigLIP image_size)
     * @param pinpoints     image_grid_pinpoints, {height, width}, multiples of imageSize
     * @param maxNumPatches N of anyres_max_N
     */
    public record Spec(TinyCheckpoint.Spec text, int imageSize, int patchSize, int visionDim, int visionMlp,
                       int visionDepth, int visionHeads, int[][] pinpoints, int maxNumPatches) {

        public static Spec defaults() {
            TinyCheckpoint.Spec text = new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.QWEN2, 64, 128, 2, 4, 2,
                    true, DType.BF16, 41, 2048, 10000.0, null);
            int[][] pins = {{42, 42}, {42, 84}, {84, 42}, {84, 84}, {42, 126}, {126, 42}};
            return new Spec(text, 42, 14, 32, 64, 2, 2, pins, 2);
        }

        public Spec withText(TinyCheckpoint.Spec t) {
            return new Spec(t, imageSize, patchSize, visionDim, visionMlp, visionDepth, visionHeads, pinpoints,
                    maxNumPatches);
        }

        public Spec withMaxPositionEmbeddings(int n) {
            TinyCheckpoint.Spec t = text;
            return withText(new TinyCheckpoint.Spec(t.architecture(), t.hiddenSize(), t.intermediateSize(),
                    t.numLayers(), t.numHeads(), t.numKvHeads(), t.tieWordEmbeddings(), t.dtype(), t.seed(), n,
                    t.ropeTheta(), t.ropeScaling()));
        }
    }

    private TinyLlavaOnevisionCheckpoint() {
    }

    public static Path write(Path dir, Spec spec) {
        return TinyCheckpoint.writeFiles(dir, Map.of(
                Checkpoint.CONFIG, configJson(spec),
                GenerationConfig.FILE_NAME, TinyCheckpoint.generationConfigJson(),
                "tokenizer.json", tokenizerJson(),
                "tokenizer_config.json", tokenizerConfigJson(spec),
                "chat_template.json", TinyCheckpoint.chatTemplateJson(CHAT_TEMPLATE),
                ProcessorSettings.PREPROCESSOR_CONFIG, imageProcessorJson(spec),
                LlavaOnevisionProcessor.VIDEO_PREPROCESSOR_CONFIG, videoProcessorJson(spec),
                ProcessorSettings.PROCESSOR_CONFIG, processorJson(spec)),
                weights(spec));
    }

    static SafetensorsWriter weights(Spec s) {
        TinyCheckpoint.Spec t = s.text();
        SafetensorsWriter w = new SafetensorsWriter();
        TinyCheckpoint.textWeights(w, t, VOCAB_SIZE, "language_model.model.", "language_model.lm_head.weight");
        String v = "vision_tower.vision_model.";
        int d = s.visionDim();
        int grid = s.imageSize() / s.patchSize();
        TinyCheckpoint.normal(w, t, v + "embeddings.patch_embedding.weight", 1.0 / Math.sqrt(3 * s.patchSize() * s.patchSize()),
                d, 3, s.patchSize(), s.patchSize());
        TinyCheckpoint.normal(w, t, v + "embeddings.patch_embedding.bias", 0.1, d);
        TinyCheckpoint.normal(w, t, v + "embeddings.position_embedding.weight", 0.5, grid * grid, d);
        for (int i = 0; i < s.visionDepth(); i++) {
            TinyCheckpoint.clipEncoderLayer(w, t, v + "encoder.layers." + i + ".", d, s.visionMlp());
        }
        TinyCheckpoint.layerNorm(w, t, v + "post_layernorm", d);
        int hidden = t.hiddenSize();
        TinyCheckpoint.linear(w, t, "multi_modal_projector.linear_1", hidden, d, true);
        TinyCheckpoint.linear(w, t, "multi_modal_projector.linear_2", hidden, hidden, true);
        TinyCheckpoint.normal(w, t, "image_newline", 1.0, hidden);
        return w;
    }

    static ObjectNode configJson(Spec s) {
        ObjectNode c = JsonFields.MAPPER.createObjectNode();
        c.putArray("architectures").add(LlavaOnevisionConfig.ARCHITECTURE);
        pinpoints(c.putArray("image_grid_pinpoints"), s);
        c.put("image_token_index", IMAGE_ID);
        c.put("model_type", LlavaOnevisionConfig.MODEL_TYPE);
        c.put("projector_hidden_act", "gelu");
        ObjectNode text = TinyCheckpoint.configJson(s.text());
        text.remove(List.of("architectures", "tie_word_embeddings"));
        text.put("vocab_size", VOCAB_SIZE);
        String dtype = text.remove("torch_dtype").asText();
        c.set("text_config", text);
        c.put("tie_word_embeddings", s.text().tieWordEmbeddings());
        c.put("torch_dtype", dtype);
        c.put("video_token_index", VIDEO_ID);
        c.put("vision_aspect_ratio", "anyres_max_" + s.maxNumPatches());
        ObjectNode v = c.putObject("vision_config");
        v.put("hidden_act", "gelu_pytorch_tanh");
        v.put("hidden_size", s.visionDim());
        v.put("image_size", s.imageSize());
        v.put("intermediate_size", s.visionMlp());
        v.put("layer_norm_eps", 1e-6);
        v.put("model_type", "siglip_vision_model");
        v.put("num_attention_heads", s.visionHeads());
        v.put("num_hidden_layers", s.visionDepth());
        v.put("patch_size", s.patchSize());
        v.put("vision_use_head", false);
        c.put("vision_feature_layer", -1);
        c.put("vision_feature_select_strategy", "full");
        return c;
    }

    private static void pinpoints(ArrayNode out, Spec s) {
        for (int[] p : s.pinpoints()) {
            out.addArray().add(p[0]).add(p[1]);
        }
    }

    static ObjectNode tokenizerJson() {
        return TinyTokenizer.tokenizerJson(IMAGE_ID, IMAGE, VIDEO);
    }

    static ObjectNode tokenizerConfigJson(Spec s) {
        ObjectNode root = TinyTokenizer.tokenizerConfigJson(s.text().maxPositionEmbeddings(),
                IMAGE_ID, IMAGE, VIDEO);
        root.put("chat_template", CHAT_TEMPLATE);
        root.put("processor_class", "LlavaOnevisionProcessor");
        return root;
    }

    private static void pixelSettings(ObjectNode p, Spec s) {
        p.put("do_convert_rgb", true);
        p.put("do_normalize", true);
        p.put("do_rescale", true);
        p.put("do_resize", true);
        ArrayNode mean = p.putArray("image_mean");
        ArrayNode std = p.putArray("image_std");
        for (int i = 0; i < 3; i++) {
            mean.add(CLIP_MEAN[i]);
            std.add(CLIP_STD[i]);
        }
        p.put("processor_class", "LlavaOnevisionProcessor");
        p.put("resample", 3);
        p.put("rescale_factor", 1.0 / 255);
        ObjectNode size = p.putObject("size");
        size.put("height", s.imageSize());
        size.put("width", s.imageSize());
    }

    static ObjectNode imageProcessorJson(Spec s) {
        ObjectNode p = JsonFields.MAPPER.createObjectNode();
        pixelSettings(p, s);
        p.put("do_pad", true);
        pinpoints(p.putArray("image_grid_pinpoints"), s);
        p.put("image_processor_type", "LlavaOnevisionImageProcessor");
        return p;
    }

    static ObjectNode videoProcessorJson(Spec s) {
        ObjectNode p = JsonFields.MAPPER.createObjectNode();
        pixelSettings(p, s);
        p.put("do_sample_frames", false);
        p.put("video_processor_type", "LlavaOnevisionVideoProcessor");
        return p;
    }

    static ObjectNode processorJson(Spec s) {
        ObjectNode p = JsonFields.MAPPER.createObjectNode();
        p.put("image_token", IMAGE);
        int grid = s.imageSize() / s.patchSize();
        p.put("num_image_tokens", grid * grid);
        p.put("processor_class", "LlavaOnevisionProcessor");
        p.put("video_token", VIDEO);
        p.put("vision_aspect_ratio", "anyres_max_" + s.maxNumPatches());
        p.put("vision_feature_select_strategy", "full");
        return p;
    }

    /** Writes the default checkpoint into {@code args[0]} (for the oracle script; see the test's doc). */
    public static void main(String[] args) {
        write(Path.of(args[0]), Spec.defaults());
    }
}
