package io.sparkmm.engine.models;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

/**
 * One pre-norm transformer encoder layer with biased Linears and LayerNorms, bidirectional
 * attention: {@code x += out_proj(attn(ln1(x))); x += fc2(act(fc1(ln2(x))))}. The layer of the CLIP
 * and SigLIP vision towers ({@link #loadVit}) and of Whisper-style audio towers ({@link #loadWhisper}:
 * other tensor names, and no k_proj bias, since a bias on the keys adds the same score to every key
 * of a query, which softmax cancels).
 */
public record EncoderLayer(Tensor norm1W, Tensor norm1B, Tensor q, Tensor qB, Tensor k, Tensor kB, Tensor v, Tensor vB,
                       Tensor o, Tensor oB, Tensor norm2W, Tensor norm2B, Tensor fc1, Tensor fc1B, Tensor fc2,
                       Tensor fc2B) implements AutoCloseable {

    /** Loads a CLIP/SigLIP layer at {@code prefix} (ending in "."), d = hidden size, f = MLP size. */
    public static EncoderLayer loadVit(WeightLoader w, String prefix, int d, int f) {
        return new EncoderLayer(
                w.vec(prefix + "layer_norm1.weight", d), w.vec(prefix + "layer_norm1.bias", d),
                w.mat(prefix + "self_attn.q_proj.weight", d, d), w.vec(prefix + "self_attn.q_proj.bias", d),
                w.mat(prefix + "self_attn.k_proj.weight", d, d), w.vec(prefix + "self_attn.k_proj.bias", d),
                w.mat(prefix + "self_attn.v_proj.weight", d, d), w.vec(prefix + "self_attn.v_proj.bias", d),
                w.mat(prefix + "self_attn.out_proj.weight", d, d), w.vec(prefix + "self_attn.out_proj.bias", d),
                w.vec(prefix + "layer_norm2.weight", d), w.vec(prefix + "layer_norm2.bias", d),
                w.mat(prefix + "mlp.fc1.weight", f, d), w.vec(prefix + "mlp.fc1.bias", f),
                w.mat(prefix + "mlp.fc2.weight", d, f), w.vec(prefix + "mlp.fc2.bias", d));
    }

    /** Loads a Whisper layer at {@code prefix} (ending in "."), d = d_model, f = encoder_ffn_dim. */
    public static EncoderLayer loadWhisper(WeightLoader w, String prefix, int d, int f) {
        return new EncoderLayer(
                w.vec(prefix + "self_attn_layer_norm.weight", d), w.vec(prefix + "self_attn_layer_norm.bias", d),
                w.mat(prefix + "self_attn.q_proj.weight", d, d), w.vec(prefix + "self_attn.q_proj.bias", d),
                w.mat(prefix + "self_attn.k_proj.weight", d, d), null,
                w.mat(prefix + "self_attn.v_proj.weight", d, d), w.vec(prefix + "self_attn.v_proj.bias", d),
                w.mat(prefix + "self_attn.out_proj.weight", d, d), w.vec(prefix + "self_attn.out_proj.bias", d),
                w.vec(prefix + "final_layer_norm.weight", d), w.vec(prefix + "final_layer_norm.bias", d),
                w.mat(prefix + "fc1.weight", f, d), w.vec(prefix + "fc1.bias", f),
                w.mat(prefix + "fc2.weight", d, f), w.vec(prefix + "fc2.bias", d));
    }

    /**
     * Runs the layer in place on hidden [T, d], every row attending to every row (an audio tower
     * passes only its real positions: transformers' padding mask without the padded rows, which no
     * real row reads).
     */
    public void run(Backend backend, Tensor hidden, int heads, float eps, Activation act) {
        int n = hidden.rows();
        int d = q.rows();
        int headDim = d / heads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        try (Tensor x = backend.zeros(n, d);
             Tensor qs = backend.zeros(n, d);
             Tensor ks = backend.zeros(n, d);
             Tensor vs = backend.zeros(n, d);
             Tensor attn = backend.zeros(n, d);
             Tensor proj = backend.zeros(n, d);
             Tensor up = backend.zeros(n, fc1.rows())) {
            backend.layerNorm(hidden, norm1W, norm1B, eps, x);
            backend.matmul(x, q, qB, qs);
            backend.matmul(x, k, kB, ks);
            backend.matmul(x, v, vB, vs);
            backend.attention(qs, ks, vs, attn, heads, heads, headDim, scale, false);
            backend.matmul(attn, o, oB, proj);
            backend.add(hidden, proj, hidden);

            backend.layerNorm(hidden, norm2W, norm2B, eps, x);
            backend.matmul(x, fc1, fc1B, up);
            backend.activation(act, up, up);
            backend.matmul(up, fc2, fc2B, proj);
            backend.add(hidden, proj, hidden);
        }
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {norm1W, norm1B, q, qB, k, kB, v, vB, o, oB, norm2W, norm2B, fc1, fc1B, fc2, fc2B}) {
            if (t != null) {
                t.close();
            }
        }
    }
}
