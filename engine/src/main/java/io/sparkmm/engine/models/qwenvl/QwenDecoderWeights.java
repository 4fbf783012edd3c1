package io.sparkmm.engine.models.qwenvl;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Qwen (v1)'s decoder under its own names, mapped onto the shared Llama-style decoder: a QWen
 * block is RMSNorm ln_1, a fused {@code c_attn} (q | k | v, with bias) and {@code c_proj}, RMSNorm
 * ln_2, and a SwiGLU MLP whose gate is {@code w2} and whose up projection is {@code w1}
 * ({@code c_proj(w1(x) * silu(w2(x)))}); full rope, no GQA. So the math is
 * {@link io.sparkmm.engine.models.DecoderModel}'s, only the names differ.
 */
final class QwenDecoderWeights {

    static final String PREFIX = "transformer.";
    static final String LM_HEAD = "lm_head.weight";

    private QwenDecoderWeights() {
    }

    static DecoderWeights load(Checkpoint ckpt, ModelConfig c, boolean noBias, Backend backend) {
        WeightLoader w = new WeightLoader(ckpt, backend);
        try {
            int h = c.hiddenSize();
            int f = c.intermediateSize();
            Tensor embed = w.mat(PREFIX + "wte.weight", c.vocabSize(), h);
            List<DecoderWeights.Layer> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                String p = PREFIX + "h." + i + ".";
                Tensor[] qkv = w.rowsSplit(p + "attn.c_attn.weight", 3, h, h);
                Tensor[] qkvBias = w.rowsSplit(p + "attn.c_attn.bias", 3, h);
                layers.add(new DecoderWeights.Layer(w.vec(p + "ln_1.weight", h),
                        qkv[0], qkvBias[0], qkv[1], qkvBias[1], qkv[2], qkvBias[2],
                        w.mat(p + "attn.c_proj.weight", h, h), noBias ? null : w.vec(p + "attn.c_proj.bias", h),
                        w.vec(p + "ln_2.weight", h),
                        w.mat(p + "mlp.w2.weight", f, h), noBias ? null : w.vec(p + "mlp.w2.bias", f),
                        w.mat(p + "mlp.w1.weight", f, h), noBias ? null : w.vec(p + "mlp.w1.bias", f),
                        w.mat(p + "mlp.c_proj.weight", h, f), noBias ? null : w.vec(p + "mlp.c_proj.bias", h)));
            }
            Tensor norm = w.vec(PREFIX + "ln_f.weight", h);
            Tensor head = ckpt.has(LM_HEAD) || !c.tieWordEmbeddings() ? w.mat(LM_HEAD, c.vocabSize(), h) : embed;
            return new DecoderWeights(embed, List.copyOf(layers), norm, head);
        } catch (RuntimeException e) {
            w.closeAll();
            throw e;
        }
    }
}
