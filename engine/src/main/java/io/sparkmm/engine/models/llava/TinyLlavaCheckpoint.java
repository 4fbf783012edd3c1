package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.checkpoint.TinyTokenizer;
import io.sparkmm.engine.models.text.TinyCheckpoint;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes tiny random {@code LlavaForConditionalGeneration} checkpoints in the real Hugging Face
 * layout, as transformers (&gt;= 4.52 naming) and its LlavaProcessor save them: config.json with
 * nested text_config and vision_config, model.safetensors, tokenizer.json and
 * tokenizer_config.json ({@link TinyTokenizer} plus an added special token {@code <image>} and a
 * LLaVA-1.5-style chat template), generation_config.json, preprocessor_config.json
 * (CLIPImageProcessor) and processor_config.json (LlavaProcessor).
 *
 * <p>Weights are deterministic in the text spec's seed, one random stream per tensor name (see
 * {@link TinyCheckpoint}). Scales keep every stage near unit size: projections std 1/sqrt(fan_in),
 * biases std 0.1, LayerNorm weights 1 +- 0.1, so projected image features are as large as text
 * embeddings and both visibly move the logits.
 */
public final class TinyLlavaCheckpoint {

    public static final String IMAGE_TOKEN = "<image>";
    /** {@code <image>} takes the first id after the text tokenizer's own tokens. */
    public static final int IMAGE_TOKEN_ID = TinyTokenizer.VOCAB_SIZE;
    /** The text model's vocab_size: the tokenizer's ids plus {@code <image>}. */
    public static final int VOCAB_SIZE = TinyTokenizer.VOCAB_SIZE + 1;

    /** LLaVA-1.5's prompt shape: "USER: <image>\n{text} ASSISTANT:", images where content items say so. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}"
            + "{% if message['role'] == 'user' %}{{ 'USER: ' }}{% elif message['role'] == 'assistant' %}"
            + "{{ 'ASSISTANT: ' }}{% endif %}"
            + "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
            + "{% for item in message['content'] %}{% if item['type'] == 'image' %}{{ '<image>\\n' }}"
            + "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}"
            + "{% if message['role'] == 'assistant' %}{{ eos_token }}{% else %}{{ ' ' }}{% endif %}{% endfor %}"
            + "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";

    /** OpenAI CLIP's normalization, which every LLaVA-1.5 image processor uses. */
    static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};

    /**
     * What to write: the text decoder ({@code text}; its vocabulary is replaced by
     * {@link #VOCAB_SIZE}, its dtype and seed are the whole checkpoint's), a CLIP tower and the
     * LLaVA settings. A one-element {@code featureLayers} is written as an int, as HF writes it.
     */
    public record Spec(TinyCheckpoint.Spec text, int visionHidden, int visionIntermediate, int visionLayers,
                       int visionHeads, int imageSize, int patchSize, String visionAct, String projectorAct,
                       List<Integer> featureLayers, String strategy, boolean projectorBias) {

        public Spec {
            featureLayers = List.copyOf(featureLayers);
            if (visionHidden % visionHeads != 0 || imageSize % patchSize != 0 || featureLayers.isEmpty()) {
                throw new IllegalArgumentException("need vision hidden % heads == 0, image % patch == 0 and a feature layer: "
                        + this);
            }
        }

        /** LLaVA-1.5 defaults on a tiny Llama: layer -2, "default" strategy, quick_gelu tower, 16 patches. */
        public static Spec llama() {
            return new Spec(TinyCheckpoint.Spec.llamaGqa(), 32, 64, 2, 2, 32, 8, "quick_gelu", "gelu",
                    List.of(-2), "default", true);
        }

        /** Qwen2 text (tied, biases), "full" strategy keeping the class token, last layer, 49 patches. */
        public static Spec qwen2Full() {
            return new Spec(TinyCheckpoint.Spec.qwen2(), 32, 48, 2, 4, 28, 4, "gelu", "gelu",
                    List.of(-1), "full", true);
        }

        /** Mistral text, two feature layers concatenated (embeddings and last), projector without bias. */
        public static Spec mistralMultiLayer() {
            return new Spec(TinyCheckpoint.Spec.mistral(), 32, 64, 2, 2, 32, 8, "quick_gelu", "gelu_pytorch_tanh",
                    List.of(0, -1), "default", false);
        }

        public Spec withText(TinyCheckpoint.Spec t) {
            return new Spec(t, visionHidden, visionIntermediate, visionLayers, visionHeads, imageSize, patchSize,
                    visionAct, projectorAct, featureLayers, strategy, projectorBias);
        }

        public int tokensPerImage() {
            int grid = imageSize / patchSize;
            return grid * grid + (strategy.equals("full") ? 1 : 0);
        }
    }

    private TinyLlavaCheckpoint() {
    }

    /** Writes the checkpoint into {@code dir} (created if needed; existing files are replaced). */
    public static Path write(Path dir, Spec spec) {
        Map<String, ObjectNode> json = new LinkedHashMap<>();
        json.put(Checkpoint.CONFIG, configJson(spec));
        json.put(GenerationConfig.FILE_NAME, TinyCheckpoint.generationConfigJson());
        json.put("tokenizer.json", tokenizerJson());
        json.put("tokenizer_config.json", tokenizerConfigJson(spec.text().maxPositionEmbeddings()));
        json.put("preprocessor_config.json", preprocessorConfigJson(spec));
        json.put("processor_config.json", processorConfigJson(spec));
        return TinyCheckpoint.writeFiles(dir, json, weights(spec));
    }

    static SafetensorsWriter weights(Spec s) {
        TinyCheckpoint.Spec t = s.text();
        SafetensorsWriter w = new SafetensorsWriter();
        TinyCheckpoint.textWeights(w, t, VOCAB_SIZE, "model.language_model.", "lm_head.weight");
        String v = "model.vision_tower.vision_model.";
        int d = s.visionHidden();
        int f = s.visionIntermediate();
        int p = s.patchSize();
        int grid = s.imageSize() / p;
        TinyCheckpoint.normal(w, t, v + "embeddings.patch_embedding.weight", 1.0 / Math.sqrt(3 * p * p), d, 3, p, p);
        TinyCheckpoint.normal(w, t, v + "embeddings.class_embedding", 1.0, d);
        TinyCheckpoint.normal(w, t, v + "embeddings.position_embedding.weight", 0.5, grid * grid + 1, d);
        TinyCheckpoint.layerNorm(w, t, v + "pre_layrnorm", d);
        for (int i = 0; i < s.visionLayers(); i++) {
            String l = v + "encoder.layers." + i + ".";
            TinyCheckpoint.clipEncoderLayer(w, t, l, d, f);
        }
        // Unused by LLaVA (it reads hidden states, not the pooled output) but present in real files.
        TinyCheckpoint.layerNorm(w, t, v + "post_layernorm", d);
        int h = t.hiddenSize();
        TinyCheckpoint.linear(w, t, "model.multi_modal_projector.linear_1", h, d * s.featureLayers().size(), s.projectorBias());
        TinyCheckpoint.linear(w, t, "model.multi_modal_projector.linear_2", h, h, s.projectorBias());
        return w;
    }

    /** config.json as transformers writes a LlavaConfig: keys sorted, sub-configs nested. */
    static ObjectNode configJson(Spec s) {
        ObjectNode c = JsonFields.MAPPER.createObjectNode();
        c.putArray("architectures").add(LlavaConfig.ARCHITECTURE);
        c.put("image_seq_length", s.tokensPerImage());
        c.put("image_token_index", IMAGE_TOKEN_ID);
        c.put("model_type", LlavaConfig.MODEL_TYPE);
        c.put("multimodal_projector_bias", s.projectorBias());
        c.put("projector_hidden_act", s.projectorAct());
        ObjectNode text = TinyCheckpoint.configJson(s.text());
        // Nested text configs carry model_type, which names the class; architectures is the top level's.
        text.remove("architectures");
        text.put("vocab_size", VOCAB_SIZE);
        c.set("text_config", text);
        c.put("tie_word_embeddings", s.text().tieWordEmbeddings());
        c.put("torch_dtype", text.get("torch_dtype").asText());
        c.put("transformers_version", "4.52.4");
        ObjectNode v = c.putObject("vision_config");
        v.put("attention_dropout", 0.0);
        v.put("dropout", 0.0);
        v.put("hidden_act", s.visionAct());
        v.put("hidden_size", s.visionHidden());
        v.put("image_size", s.imageSize());
        v.put("initializer_factor", 1.0);
        v.put("initializer_range", 0.02);
        v.put("intermediate_size", s.visionIntermediate());
        v.put("layer_norm_eps", 1e-5);
        v.put("model_type", ClipVisionConfig.MODEL_TYPE);
        v.put("num_attention_heads", s.visionHeads());
        v.put("num_channels", 3);
        v.put("num_hidden_layers", s.visionLayers());
        v.put("patch_size", s.patchSize());
        v.put("projection_dim", s.visionHidden());
        v.put("torch_dtype", text.get("torch_dtype").asText());
        if (s.featureLayers().size() == 1) {
            c.put("vision_feature_layer", s.featureLayers().get(0));
        } else {
            ArrayNode layers = c.putArray("vision_feature_layer");
            s.featureLayers().forEach(layers::add);
        }
        c.put("vision_feature_select_strategy", s.strategy());
        return c;
    }

    static ObjectNode tokenizerJson() {
        ObjectNode root = TinyTokenizer.tokenizerJson();
        ObjectNode t = ((ArrayNode) root.get("added_tokens")).addObject();
        t.put("id", IMAGE_TOKEN_ID);
        t.put("content", IMAGE_TOKEN);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
        return root;
    }

    static ObjectNode tokenizerConfigJson(int modelMaxLength) {
        ObjectNode root = TinyTokenizer.tokenizerConfigJson(modelMaxLength);
        ObjectNode t = ((ObjectNode) root.get("added_tokens_decoder")).putObject(String.valueOf(IMAGE_TOKEN_ID));
        t.put("content", IMAGE_TOKEN);
        t.put("lstrip", false);
        t.put("normalized", false);
        t.put("rstrip", false);
        t.put("single_word", false);
        t.put("special", true);
        root.put("chat_template", CHAT_TEMPLATE);
        root.put("processor_class", "LlavaProcessor");
        return root;
    }

    /** CLIPImageProcessor as LLaVA-1.5 ships it: bicubic resize of the short side, center crop, CLIP norm. */
    static ObjectNode preprocessorConfigJson(Spec s) {
        ObjectNode p = JsonFields.MAPPER.createObjectNode();
        ObjectNode crop = p.putObject("crop_size");
        crop.put("height", s.imageSize());
        crop.put("width", s.imageSize());
        p.put("do_center_crop", true);
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
        p.put("image_processor_type", "CLIPImageProcessor");
        p.put("processor_class", "LlavaProcessor");
        p.put("resample", 3);
        p.put("rescale_factor", 1.0 / 255);
        p.putObject("size").put("shortest_edge", s.imageSize());
        return p;
    }

    /**
     * LlavaProcessor's settings: placeholders per image = patches + num_additional_image_tokens
     * (1: CLIP's class token), minus 1 under the "default" strategy.
     */
    static ObjectNode processorConfigJson(Spec s) {
        ObjectNode p = JsonFields.MAPPER.createObjectNode();
        p.put("image_token", IMAGE_TOKEN);
        p.put("num_additional_image_tokens", 1);
        p.put("patch_size", s.patchSize());
        p.put("processor_class", "LlavaProcessor");
        p.put("vision_feature_select_strategy", s.strategy());
        return p;
    }
}
