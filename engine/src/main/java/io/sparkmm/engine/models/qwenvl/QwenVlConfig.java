package io.sparkmm.engine.models.qwenvl;

import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.ModelConfig;

import java.util.List;

/**
 * The config.json of the original Qwen-VL ({@code QWenLMHeadModel}, model_type "qwen", a
 * trust_remote_code model): Qwen (v1) decoder keys at the top level and the vision tower in the
 * {@code visual} dict, read with the defaults of Qwen's configuration_qwen.py and visual.py.
 *
 * <p>Qwen's {@code use_dynamic_ntk} and {@code use_logn_attn} only act on sequences longer than
 * {@code seq_length} (2048); like vLLM's re-implementation we run plain rope and attention, which
 * equal the original up to that length.
 *
 * @param text the decoder as the shared {@link ModelConfig} describes it (MLP width is
 *             intermediate_size / 2, as Qwen's w1/w2 are)
 * @param noBias {@code no_bias}: c_proj and the MLP have no biases (c_attn always has one)
 * @param vision the {@code visual} dict
 * @param imageStartId {@code visual.image_start_id}; {@code </img>} and {@code <imgpad>} follow it
 */
public record QwenVlConfig(ModelConfig text, boolean noBias, Vision vision, int imageStartId) {

    public static final String ARCHITECTURE = "QWenLMHeadModel";
    public static final String MODEL_TYPE = "qwen";

    /**
     * visual.py's VisionTransformer arguments.
     *
     * @param mlpWidth {@code int(width * mlp_ratio)}, as visual.py computes it
     * @param nQueries the resampler's learned queries (256): the image's placeholder count
     */
    public record Vision(int imageSize, int patchSize, int width, int layers, int heads, int mlpWidth, int outputDim,
                         int nQueries) {

        public int grid() {
            return imageSize / patchSize;
        }

        public int patches() {
            return grid() * grid();
        }

        /** The resampler's heads: visual.py gives it output_dim // 128. */
        public int poolHeads() {
            return outputDim / 128;
        }
    }

    /**
     * {@code <|endoftext|>}: the first special token, 214 before {@code <img>} in Qwen's list
     * (endoftext, im_start, im_end, 205 extras, ref, /ref, box, /box, quad, /quad, img, ...).
     * Qwen's config.json names no EOS; its tokenizer's eod is this token.
     */
    static int endOfTextId(int imageStartId) {
        return imageStartId - 214;
    }

    public int endOfTextId() {
        return endOfTextId(imageStartId);
    }

    public int imageEndId() {
        return imageStartId + 1;
    }

    public int imagePadId() {
        return imageStartId + 2;
    }

    /**
     * Reads config.json; {@code chatml} says generation_config.json has {@code chat_format: chatml}
     * (Qwen-VL-Chat), whose chat() also stops at {@code <|im_end|>} and {@code <|im_start|>}.
     */
    static QwenVlConfig parse(JsonFields f, boolean chatml) {
        JsonFields v = f.object("visual");
        if (v == null) {
            throw new CheckpointException(f.file() + ": a " + ARCHITECTURE + " without a \"visual\" dict is the text-only"
                    + " Qwen (v1), which sparkmm does not run; only Qwen-VL checkpoints are supported");
        }
        int hidden = f.intOr("hidden_size", 4096);
        int heads = f.intOr("num_attention_heads", 32);
        int layers = f.intOr("num_hidden_layers", 32);
        int vocab = f.intOr("vocab_size", 151936);
        // configuration_qwen.py calls it intermediate_size; early files wrote ffn_hidden_size
        int ffn = f.has("intermediate_size") ? f.intOr("intermediate_size", 22016) : f.intOr("ffn_hidden_size", 22016);
        int kvChannels = f.intOr("kv_channels", hidden / Math.max(heads, 1));
        double rotaryPct = f.doubleOr("rotary_pct", 1.0);
        if (hidden <= 0 || heads <= 0 || layers <= 0 || vocab <= 0 || hidden % heads != 0 || (hidden / heads) % 2 != 0) {
            throw f.invalid("hidden_size", hidden, "needs positive sizes, hidden_size divisible by num_attention_heads ("
                    + heads + ") and an even head size");
        }
        if (ffn <= 0 || ffn % 2 != 0) {
            throw f.invalid("intermediate_size", ffn, "must be positive and even (the MLP is intermediate_size / 2 wide)");
        }
        if (kvChannels != hidden / heads) {
            throw f.invalid("kv_channels", kvChannels, "must equal hidden_size / num_attention_heads = " + hidden / heads);
        }
        if (rotaryPct != 1.0) {
            throw f.invalid("rotary_pct", rotaryPct, "only 1.0 (rope over the whole head) is supported");
        }
        double eps = f.doubleOr("layer_norm_epsilon", 1e-6);
        double theta = f.doubleOr("rotary_emb_base", 10000);
        int maxPositions = f.intOr("max_position_embeddings", 8192);
        int imageStart = v.intOr("image_start_id", 151857);
        if (imageStart < 214 || imageStart + 2 >= vocab) {
            throw v.invalid("image_start_id", imageStart, "<img>, </img> and <imgpad> (it, +1, +2) must lie inside vocab_size "
                    + vocab);
        }
        ModelConfig text = new ModelConfig(ARCHITECTURE, MODEL_TYPE, hidden, ffn / 2, layers, heads, heads, hidden / heads,
                vocab, (float) eps, theta, null, f.boolOr("tie_word_embeddings", false), true, !f.boolOr("no_bias", true),
                !f.boolOr("no_bias", true), maxPositions, "silu", null, chatml
                        ? List.of(endOfTextId(imageStart), endOfTextId(imageStart) + 2, endOfTextId(imageStart) + 1)
                        : List.of(endOfTextId(imageStart)));
        return new QwenVlConfig(text, f.boolOr("no_bias", true), vision(v, hidden), imageStart);
    }

    private static Vision vision(JsonFields v, int hidden) {
        int imageSize = v.intOr("image_size", 448);
        int patch = v.intOr("patch_size", 14);
        int width = v.intOr("width", 1664);
        int layers = v.intOr("layers", 48);
        int heads = v.intOr("heads", 16);
        double ratio = v.doubleOr("mlp_ratio", 4.9231);
        int output = v.intOr("output_dim", 4096);
        int queries = v.intOr("n_queries", 256);
        if (imageSize <= 0 || patch <= 0 || imageSize % patch != 0) {
            throw v.invalid("image_size", imageSize, "must be a positive multiple of patch_size " + patch);
        }
        if (width <= 0 || layers <= 0 || heads <= 0 || width % heads != 0) {
            throw v.invalid("width", width, "must be positive and divisible by heads " + heads);
        }
        if (output != hidden) {
            throw v.invalid("output_dim", output, "must equal the decoder's hidden_size " + hidden
                    + " (the resampler's rows become its embeddings)");
        }
        if (output % 128 != 0) {
            throw v.invalid("output_dim", output, "must be a multiple of 128 (the resampler has output_dim / 128 heads)");
        }
        int side = (int) Math.round(Math.sqrt(queries));
        int grid = imageSize / patch;
        if (queries <= 0 || side * side != queries || queries > grid * grid) {
            throw v.invalid("n_queries", queries, "must be a square no larger than the " + grid * grid + " patches");
        }
        int mlp = (int) (width * ratio);
        if (mlp <= 0) {
            throw v.invalid("mlp_ratio", ratio, "must be positive");
        }
        return new Vision(imageSize, patch, width, layers, heads, mlp, output, queries);
    }
}
