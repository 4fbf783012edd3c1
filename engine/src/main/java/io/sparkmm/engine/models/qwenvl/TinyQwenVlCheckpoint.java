package io.sparkmm.engine.models.qwenvl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.tokenizer.QwenTiktoken;
import io.sparkmm.kernels.DType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes tiny random Qwen-VL checkpoints in the real layout of Qwen/Qwen-VL: config.json with the
 * {@code visual} dict, model.safetensors with {@code transformer.wte}, {@code transformer.h.N.attn.c_attn},
 * {@code transformer.visual.*}, {@code lm_head.weight}, a qwen.tiktoken and tokenizer_config.json
 * and, like Qwen-VL-Chat, no chat template but {@code chat_format: chatml} in generation_config.json
 * (the tokenizer then takes {@link QwenTiktoken#CHATML_TEMPLATE}).
 * The geometry is the real one (448 px, patch 14, 16 x 16 stored positions, 256 queries), the
 * widths are tiny, and the vocabulary is qwen.tiktoken's first 2048 ranks (a resource derived
 * from the Qwen vocabulary by src/test/python/qwenvl_tokenizer_fixtures.py), so the special
 * tokens sit at 2048.. and the embedding tables stay small. Weights are deterministic in the
 * seed, one stream per tensor name ({@link TinyCheckpoint}).
 */
public final class TinyQwenVlCheckpoint {

    /** qwen.tiktoken's first ranks: every single byte and the commonest merges. */
    static final String TINY_TIKTOKEN = "/io/sparkmm/engine/models/qwenvl/tiny-qwen.tiktoken";
    public static final int ORDINARY = 2048;
    public static final int IMAGE_START_ID = ORDINARY + 214;
    public static final int END_OF_TEXT_ID = ORDINARY;
    public static final int IM_START_ID = ORDINARY + 1;
    public static final int IM_END_ID = ORDINARY + 2;
    public static final int VOCAB_SIZE = 2304;

    /**
     * @param text the decoder's sizes, dtype and seed (its architecture field is not used)
     */
    public record Spec(TinyCheckpoint.Spec text, int visionWidth, int visionLayers, int visionHeads, double mlpRatio) {

        public static Spec tiny() {
            return new Spec(new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.QWEN2, 128, 192, 2, 4, 4, false,
                    DType.F32, 7, 8192, 10000.0, null), 32, 2, 2, 2.0);
        }

        public Spec withDtype(DType d) {
            return new Spec(text.withDtype(d), visionWidth, visionLayers, visionHeads, mlpRatio);
        }

        public Spec withSeed(long seed) {
            return new Spec(text.withSeed(seed), visionWidth, visionLayers, visionHeads, mlpRatio);
        }
    }

    private TinyQwenVlCheckpoint() {
    }

    public static Path write(Path dir, Spec spec) {
        try {
            Files.createDirectories(dir);
            TinyCheckpoint.writeJson(dir.resolve(Checkpoint.CONFIG), configJson(spec));
            ObjectNode g = JsonFields.MAPPER.createObjectNode();
            g.put("chat_format", "chatml");
            g.put("do_sample", false);
            g.put("eos_token_id", END_OF_TEXT_ID);
            g.put("pad_token_id", END_OF_TEXT_ID);
            TinyCheckpoint.writeJson(dir.resolve(GenerationConfig.FILE_NAME), g);
            ObjectNode t = JsonFields.MAPPER.createObjectNode();
            t.putObject("auto_map").putArray("AutoTokenizer").add("tokenization_qwen.QWenTokenizer").addNull();
            t.put("model_max_length", 8192);
            t.put("tokenizer_class", "QWenTokenizer");
            TinyCheckpoint.writeJson(dir.resolve("tokenizer_config.json"), t);
            try (InputStream in = TinyQwenVlCheckpoint.class.getResourceAsStream(TINY_TIKTOKEN)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + TINY_TIKTOKEN + " is missing from the engine jar");
                }
                Files.copy(in, dir.resolve(QwenTiktoken.FILE), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint to " + dir, e);
        }
        weights(spec).write(dir.resolve(Checkpoint.SINGLE_FILE));
        return dir;
    }

    static SafetensorsWriter weights(Spec s) {
        TinyCheckpoint.Spec t = s.text();
        SafetensorsWriter w = new SafetensorsWriter();
        int h = t.hiddenSize();
        int f = t.intermediateSize();
        TinyCheckpoint.normal(w, t, "transformer.wte.weight", 1.0, VOCAB_SIZE, h);
        for (int i = 0; i < t.numLayers(); i++) {
            String p = "transformer.h." + i + ".";
            TinyCheckpoint.norm(w, t, p + "ln_1.weight", h);
            TinyCheckpoint.linear(w, t, p + "attn.c_attn", 3 * h, h, true);
            TinyCheckpoint.linear(w, t, p + "attn.c_proj", h, h);
            TinyCheckpoint.norm(w, t, p + "ln_2.weight", h);
            TinyCheckpoint.linear(w, t, p + "mlp.w1", f, h);
            TinyCheckpoint.linear(w, t, p + "mlp.w2", f, h);
            TinyCheckpoint.linear(w, t, p + "mlp.c_proj", h, f);
        }
        TinyCheckpoint.norm(w, t, "transformer.ln_f.weight", h);
        TinyCheckpoint.normal(w, t, "lm_head.weight", 3.0 / Math.sqrt(h), VOCAB_SIZE, h);

        String v = "transformer.visual.";
        int width = s.visionWidth();
        int mlp = (int) (width * s.mlpRatio());
        TinyCheckpoint.normal(w, t, v + "conv1.weight", 1.0 / Math.sqrt(3 * 14 * 14), width, 3, 14, 14);
        TinyCheckpoint.normal(w, t, v + "positional_embedding", 1.0 / Math.sqrt(width), 256, width);
        TinyCheckpoint.layerNorm(w, t, v + "ln_pre", width);
        for (int i = 0; i < s.visionLayers(); i++) {
            String b = v + "transformer.resblocks." + i + ".";
            TinyCheckpoint.layerNorm(w, t, b + "ln_1", width);
            TinyCheckpoint.linear(w, t, b + "attn.in_proj", 3 * width, width, true);
            TinyCheckpoint.linear(w, t, b + "attn.out_proj", width, width, true);
            TinyCheckpoint.layerNorm(w, t, b + "ln_2", width);
            TinyCheckpoint.linear(w, t, b + "mlp.c_fc", mlp, width, true);
            TinyCheckpoint.linear(w, t, b + "mlp.c_proj", width, mlp, true);
        }
        String a = v + "attn_pool.";
        TinyCheckpoint.normal(w, t, a + "query", 1.0, 256, h);
        TinyCheckpoint.linear(w, t, a + "kv_proj", h, width);
        TinyCheckpoint.normal(w, t, a + "attn.in_proj_weight", 1.0 / Math.sqrt(h), 3 * h, h);
        TinyCheckpoint.normal(w, t, a + "attn.in_proj_bias", 0.1, 3 * h);
        TinyCheckpoint.linear(w, t, a + "attn.out_proj", h, h, true);
        TinyCheckpoint.layerNorm(w, t, a + "ln_q", h);
        TinyCheckpoint.layerNorm(w, t, a + "ln_kv", h);
        w.add(a + "pos_embed", t.dtype(), new int[] {256, h}, AbsolutePositions.sinCos2d(h, 16));
        TinyCheckpoint.layerNorm(w, t, v + "ln_post", h);
        TinyCheckpoint.normal(w, t, v + "proj", 1.0 / Math.sqrt(h), h, h);
        return w;
    }

    /** config.json as Qwen/Qwen-VL's: configuration_qwen.py's keys at the top, the ViT in "visual". */
    static ObjectNode configJson(Spec s) {
        TinyCheckpoint.Spec t = s.text();
        ObjectNode c = JsonFields.MAPPER.createObjectNode();
        c.putArray("architectures").add(QwenVlConfig.ARCHITECTURE);
        c.put("attn_dropout_prob", 0.0);
        ObjectNode auto = c.putObject("auto_map");
        auto.put("AutoConfig", "configuration_qwen.QWenConfig");
        auto.put("AutoModelForCausalLM", "modeling_qwen.QWenLMHeadModel");
        c.put("bf16", t.dtype() == DType.BF16);
        c.put("emb_dropout_prob", 0.0);
        c.put("fp16", t.dtype() == DType.F16);
        c.put("fp32", t.dtype() == DType.F32);
        c.put("hidden_size", t.hiddenSize());
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", 2 * t.intermediateSize());
        c.put("kv_channels", t.hiddenSize() / t.numHeads());
        c.put("layer_norm_epsilon", 1e-6);
        c.put("max_position_embeddings", t.maxPositionEmbeddings());
        c.put("model_type", QwenVlConfig.MODEL_TYPE);
        c.put("no_bias", true);
        c.put("num_attention_heads", t.numHeads());
        c.put("num_hidden_layers", t.numLayers());
        c.put("rotary_emb_base", t.ropeTheta());
        c.put("rotary_pct", 1.0);
        c.put("scale_attn_weights", true);
        c.put("seq_length", 2048);
        c.put("tie_word_embeddings", false);
        c.put("tokenizer_type", "QWenTokenizer");
        c.put("use_cache", true);
        c.put("use_dynamic_ntk", true);
        c.put("use_flash_attn", false);
        c.put("use_logn_attn", true);
        ObjectNode v = c.putObject("visual");
        v.put("heads", s.visionHeads());
        v.put("image_size", 448);
        v.put("image_start_id", IMAGE_START_ID);
        v.put("layers", s.visionLayers());
        v.put("mlp_ratio", s.mlpRatio());
        v.put("output_dim", t.hiddenSize());
        v.put("patch_size", 14);
        v.put("width", s.visionWidth());
        c.put("vocab_size", VOCAB_SIZE);
        return c;
    }
}
