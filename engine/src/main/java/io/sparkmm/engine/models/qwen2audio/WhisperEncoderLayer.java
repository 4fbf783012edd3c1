package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

/**
 * One Whisper encoder layer, as Qwen2-Audio's audio tower stores it under {@code layers.i.}:
 * {@code x += out_proj(attn(self_attn_layer_norm(x))); x += fc2(act(fc1(final_layer_norm(x))))}.
 * The same math as the ViT layer of CLIP, but other tensor names and no k_proj bias (Whisper drops
 * it: a bias on the keys adds the same score to every key of a query, which softmax cancels).
 */
record WhisperEncoderLayer(Tensor norm1W, Tensor norm1B, Tensor q, Tensor qB, Tensor k, Tensor v, Tensor vB,
                           Tensor o, Tensor oB, Tensor norm2W, Tensor norm2B, Tensor fc1, Tensor fc1B, Tensor fc2,
                           Tensor fc2B) implements AutoCloseable {

    /** Loads the layer at {@code prefix} (ending in "."), d = d_model, f = encoder_ffn_dim. */
    static WhisperEncoderLayer load(WeightLoader w, String prefix, int d, int f) {
        return new WhisperEncoderLayer(
                w.vec(prefix + "self_attn_layer_norm.weight", d), w.vec(prefix + "self_attn_layer_norm.bias", d),
                w.mat(prefix + "self_attn.q_proj.weight", d, d), w.vec(prefix + "self_attn.q_proj.bias", d),
                w.mat(prefix + "self_attn.k_proj.weight", d, d),
                w.mat(prefix + "self_attn.v_proj.weight", d, d), w.vec(prefix + "self_attn.v_proj.bias", d),
                w.mat(prefix + "self_attn.out_proj.weight", d, d), w.vec(prefix + "self_attn.out_proj.bias", d),
                w.vec(prefix + "final_layer_norm.weight", d), w.vec(prefix + "final_layer_norm.bias", d),
                w.mat(prefix + "fc1.weight", f, d), w.vec(prefix + "fc1.bias", f),
                w.mat(prefix + "fc2.weight", d, f), w.vec(prefix + "fc2.bias", d));
    }

    /**
     * Runs the layer in place on hidden [n, d], every row attending to every row. The caller passes
     * only the real-audio positions: that is transformers' padding mask (padded keys masked out)
     * without the padded rows, which no real row reads.
     */
    void run(Backend backend, Tensor hidden, int heads, float eps, Activation act) {
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
            backend.matmul(x, k, null, ks);
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
        for (Tensor t : new Tensor[] {norm1W, norm1B, q, qB, k, v, vB, o, oB, norm2W, norm2B, fc1, fc1B, fc2, fc2B}) {
            t.close();
        }
    }
}
