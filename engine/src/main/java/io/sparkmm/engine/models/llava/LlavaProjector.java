package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.SafeTensor;
import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

/**
 * LLaVA's multi-modal projector: image features [n, in] -&gt; linear_1 -&gt; act -&gt; linear_2 -&gt;
 * [n, textHidden], so image tokens live in the text decoder's embedding space. {@code in} is the
 * vision hidden size times the number of selected vision feature layers.
 */
public final class LlavaProjector implements AutoCloseable {

    private final Backend backend;
    private final Tensor w1;    // [textHidden, in]
    private final Tensor b1;    // [textHidden] or null
    private final Tensor w2;    // [textHidden, textHidden]
    private final Tensor b2;    // [textHidden] or null
    private final Activation act;

    private LlavaProjector(Backend backend, Tensor w1, Tensor b1, Tensor w2, Tensor b2, Activation act) {
        this.backend = backend;
        this.w1 = w1;
        this.b1 = b1;
        this.w2 = w2;
        this.b2 = b2;
        this.act = act;
    }

    /**
     * Loads {@code prefix + "linear_1.weight"} etc. (prefix e.g. "model.multi_modal_projector.");
     * biases only when {@code bias} (config's multimodal_projector_bias).
     */
    public static LlavaProjector load(Checkpoint ckpt, Backend backend, String prefix, int in, int textHidden,
                                      boolean bias, Activation act) {
        Tensor w1 = null;
        Tensor b1 = null;
        Tensor w2 = null;
        try {
            w1 = get(ckpt, backend, prefix + "linear_1.weight", textHidden, in);
            b1 = bias ? get(ckpt, backend, prefix + "linear_1.bias", textHidden) : null;
            w2 = get(ckpt, backend, prefix + "linear_2.weight", textHidden, textHidden);
            Tensor b2 = bias ? get(ckpt, backend, prefix + "linear_2.bias", textHidden) : null;
            return new LlavaProjector(backend, w1, b1, w2, b2, act);
        } catch (RuntimeException e) {
            for (Tensor t : new Tensor[] {w1, b1, w2}) {
                if (t != null) {
                    t.close();
                }
            }
            throw e;
        }
    }

    private static Tensor get(Checkpoint ckpt, Backend backend, String name, int... shape) {
        SafeTensor st = ckpt.tensor(name).requireShape(shape);
        return backend.weight(st.dtype(), st.data(), st.shape());
    }

    /** [n, in] -&gt; a new [n, textHidden]; the caller owns the result. */
    public Tensor forward(Tensor features) {
        int n = features.rows();
        int h = w2.rows();
        Tensor out = backend.zeros(n, h);
        try (Tensor mid = backend.zeros(n, h)) {
            backend.matmul(features, w1, b1, mid);
            backend.activation(act, mid, mid);
            backend.matmul(mid, w2, b2, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {w1, b1, w2, b2}) {
            if (t != null) {
                t.close();
            }
        }
    }
}
