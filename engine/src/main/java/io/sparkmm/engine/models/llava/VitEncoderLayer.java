package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

/**
 * One pre-norm ViT encoder layer with biased Linears and LayerNorms, the layer of CLIP and SigLIP
 * vision towers (same tensor names under {@code encoder.layers.i.}):
 * {@code x += out_proj(attn(ln1(x))); x += fc2(act(fc1(ln2(x))))}, attention bidirectional.
 */
record VitEncoderLayer(Tensor norm1W, Tensor norm1B, Tensor q, Tensor qB, Tensor k, Tensor kB, Tensor v, Tensor vB,
                       Tensor o, Tensor oB, Tensor norm2W, Tensor norm2B, Tensor fc1, Tensor fc1B, Tensor fc2,
                       Tensor fc2B) implements AutoCloseable {

    /** Loads the layer at {@code prefix} (ending in "."), d = hidden size, f = MLP size. */
    static VitEncoderLayer load(WeightLoader w, String prefix, int d, int f) {
        return new VitEncoderLayer(
                w.vec(prefix + "layer_norm1.weight", d), w.vec(prefix + "layer_norm1.bias", d),
                w.mat(prefix + "self_attn.q_proj.weight", d, d), w.vec(prefix + "self_attn.q_proj.bias", d),
                w.mat(prefix + "self_attn.k_proj.weight", d, d), w.vec(prefix + "self_attn.k_proj.bias", d),
                w.mat(prefix + "self_attn.v_proj.weight", d, d), w.vec(prefix + "self_attn.v_proj.bias", d),
                w.mat(prefix + "self_attn.out_proj.weight", d, d), w.vec(prefix + "self_attn.out_proj.bias", d),
                w.vec(prefix + "layer_norm2.weight", d), w.vec(prefix + "layer_norm2.bias", d),
                w.mat(prefix + "mlp.fc1.weight", f, d), w.vec(prefix + "mlp.fc1.bias", f),
                w.mat(prefix + "mlp.fc2.weight", d, f), w.vec(prefix + "mlp.fc2.bias", d));
    }

    /** Runs the layer in place on hidden [T, d]. */
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
            t.close();
        }
    }
}
