package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.kernels.Activation;

import java.util.List;
import java.util.Set;

/**
 * The {@code vision_config} of a Qwen2-VL or Qwen2.5-VL checkpoint (transformers'
 * Qwen2VLVisionConfig / Qwen2_5_VLVisionConfig), with their defaults for absent keys.
 *
 * @param windowed        Qwen2.5-VL: RMSNorm, a gated (SwiGLU) MLP and window attention; Qwen2-VL:
 *                        LayerNorm, a two-layer MLP, full attention within each frame
 * @param depth           blocks
 * @param embedDim        width of the blocks ({@code embed_dim} in Qwen2-VL, {@code hidden_size} in 2.5)
 * @param mlpHidden       MLP width ({@code embed_dim * mlp_ratio} in Qwen2-VL, {@code intermediate_size} in 2.5)
 * @param outHidden       width of the merger's output, the language model's hidden size
 *                        ({@code hidden_size} in Qwen2-VL, {@code out_hidden_size} in 2.5)
 * @param windowSize      2.5 only: the side in pixels of an attention window ({@code window_size})
 * @param fullAttentionBlocks 2.5 only: blocks that attend across the whole frame
 * @param tokensPerSecond 2.5 only: temporal positions per second of video
 */
public record Qwen2VlVisionConfig(boolean windowed, int depth, int embedDim, int mlpHidden, int outHidden,
                                  String hiddenAct, int numHeads, int inChannels, int patchSize,
                                  int temporalPatchSize, int mergeSize, double ropeTheta, int windowSize,
                                  Set<Integer> fullAttentionBlocks, int tokensPerSecond) {

    public Qwen2VlVisionConfig {
        fullAttentionBlocks = Set.copyOf(fullAttentionBlocks);
    }

    public static Qwen2VlVisionConfig parse(JsonFields f, boolean qwen25) {
        int depth = positive(f, "depth", 32);
        int heads = positive(f, f.has("num_heads") ? "num_heads" : "num_attention_heads", 16);
        int channels = f.has("in_channels") ? positive(f, "in_channels", 3) : positive(f, "in_chans", 3);
        int patch = positive(f, "patch_size", 14);
        int temporal = positive(f, "temporal_patch_size", 2);
        int merge = positive(f, "spatial_merge_size", 2);
        JsonFields rope = f.object("rope_parameters");
        double theta = rope != null ? rope.doubleOr("rope_theta", 10000.0) : 10000.0;
        int embed;
        int mlp;
        int out;
        String act;
        int window = 0;
        int tps = 0;
        Set<Integer> full = Set.of();
        if (qwen25) {
            embed = positive(f, "hidden_size", 3584);
            mlp = positive(f, "intermediate_size", 3420);
            out = positive(f, "out_hidden_size", 3584);
            act = f.stringOr("hidden_act", "silu");
            if (!Activation.fromHf(act).equals(Activation.SILU)) {
                throw f.invalid("hidden_act", act, "Qwen2.5-VL's gated vision MLP is run with silu only");
            }
            window = positive(f, "window_size", 112);
            tps = positive(f, "tokens_per_second", 4);
            List<Integer> blocks = f.intListOr("fullatt_block_indexes", List.of(7, 15, 23, 31));
            for (int b : blocks) {
                if (b < 0 || b >= depth) {
                    throw f.invalid("fullatt_block_indexes", blocks, "block " + b + " is outside [0, " + depth + ")");
                }
            }
            full = Set.copyOf(blocks);
            if (window % (merge * patch) != 0) {
                throw f.invalid("window_size", window, "must be a multiple of spatial_merge_size * patch_size = "
                        + merge * patch);
            }
        } else {
            embed = positive(f, "embed_dim", 1280);
            mlp = embed * positive(f, "mlp_ratio", 4);
            out = positive(f, "hidden_size", 3584);
            act = f.stringOr("hidden_act", "quick_gelu");
            try {
                Activation.fromHf(act);
            } catch (IllegalArgumentException e) {
                throw f.invalid("hidden_act", act, e.getMessage());
            }
        }
        if (embed % heads != 0 || (embed / heads) % 4 != 0) {
            // the 2-D rotary splits each head in four: (h, w) x (cos, sin) halves
            throw f.invalid(qwen25 ? "hidden_size" : "embed_dim", embed, "must split into " + heads
                    + " heads of a size divisible by 4");
        }
        return new Qwen2VlVisionConfig(qwen25, depth, embed, mlp, out, act, heads, channels, patch, temporal, merge,
                theta, window, full, tps);
    }

    private static int positive(JsonFields f, String key, int def) {
        int v = f.intOr(key, def);
        if (v <= 0) {
            throw f.invalid(key, v, "must be > 0");
        }
        return v;
    }

    public int headDim() {
        return embedDim / numHeads;
    }

    /** Columns of one row of pixel_values: channels x temporal patch x patch x patch. */
    public int patchDim() {
        return inChannels * temporalPatchSize * patchSize * patchSize;
    }

    public Activation activation() {
        return Activation.fromHf(hiddenAct);
    }

    /** 2.5: merged tokens per window side ({@code window_size / merge / patch}). */
    public int mergedWindow() {
        return windowSize / mergeSize / patchSize;
    }
}
