package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.checkpoint.SafeTensor;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The weights of a Llama-style decoder (Llama, Qwen2, Mistral share the layout), uploaded to a
 * backend under their Hugging Face names. Shapes are checked against config.json so a
 * mis-shaped tensor fails at load with its name and file.
 *
 * @param prefix the module path of the language model, "model." for a plain causal LM and
 *               e.g. "language_model.model." inside a multimodal checkpoint
 */
public record DecoderWeights(Tensor embedTokens, List<Layer> layers, Tensor finalNorm, Tensor lmHead) implements AutoCloseable {

    /** One decoder layer; biases are null when the architecture has none. */
    public record Layer(Tensor inputNorm,
                        Tensor q, Tensor qBias, Tensor k, Tensor kBias, Tensor v, Tensor vBias,
                        Tensor o, Tensor oBias,
                        Tensor postAttentionNorm,
                        Tensor gate, Tensor gateBias, Tensor up, Tensor upBias, Tensor down, Tensor downBias) {
    }

    public static DecoderWeights load(Checkpoint ckpt, ModelConfig c, Backend backend, String prefix, String lmHeadName) {
        Loader l = new Loader(ckpt, backend);
        int hd = c.headDim();
        int qOut = c.numHeads() * hd;
        int kvOut = c.numKvHeads() * hd;
        int h = c.hiddenSize();
        int f = c.intermediateSize();
        Tensor embed = l.get(prefix + "embed_tokens.weight", c.vocabSize(), h);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = prefix + "layers." + i + ".";
            layers.add(new Layer(
                    l.get(p + "input_layernorm.weight", h),
                    l.get(p + "self_attn.q_proj.weight", qOut, h), l.bias(c.qkvBias(), p + "self_attn.q_proj.bias", qOut),
                    l.get(p + "self_attn.k_proj.weight", kvOut, h), l.bias(c.qkvBias(), p + "self_attn.k_proj.bias", kvOut),
                    l.get(p + "self_attn.v_proj.weight", kvOut, h), l.bias(c.qkvBias(), p + "self_attn.v_proj.bias", kvOut),
                    l.get(p + "self_attn.o_proj.weight", h, qOut), l.bias(c.oBias(), p + "self_attn.o_proj.bias", h),
                    l.get(p + "post_attention_layernorm.weight", h),
                    l.get(p + "mlp.gate_proj.weight", f, h), l.bias(c.mlpBias(), p + "mlp.gate_proj.bias", f),
                    l.get(p + "mlp.up_proj.weight", f, h), l.bias(c.mlpBias(), p + "mlp.up_proj.bias", f),
                    l.get(p + "mlp.down_proj.weight", h, f), l.bias(c.mlpBias(), p + "mlp.down_proj.bias", h)));
        }
        Tensor norm = l.get(prefix + "norm.weight", h);
        // Tied checkpoints usually omit lm_head; some still store it, and then the stored one wins, as in HF.
        Tensor head = ckpt.has(lmHeadName) ? l.get(lmHeadName, c.vocabSize(), h)
                : c.tieWordEmbeddings() ? embed
                : l.get(lmHeadName, c.vocabSize(), h);
        return new DecoderWeights(embed, List.copyOf(layers), norm, head);
    }

    @Override
    public void close() {
        embedTokens.close();
        finalNorm.close();
        lmHead.close();
        for (Layer layer : layers) {
            for (Tensor t : new Tensor[] {layer.inputNorm, layer.q, layer.qBias, layer.k, layer.kBias, layer.v,
                    layer.vBias, layer.o, layer.oBias, layer.postAttentionNorm, layer.gate, layer.gateBias,
                    layer.up, layer.upBias, layer.down, layer.downBias}) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    private record Loader(Checkpoint ckpt, Backend backend) {
        Tensor get(String name, int... shape) {
            SafeTensor st = ckpt.tensor(name).requireShape(shape);
            return backend.weight(st.dtype(), st.data(), st.shape());
        }

        Tensor bias(boolean present, String name, int length) {
            return present ? get(name, length) : null;
        }
    }
}
