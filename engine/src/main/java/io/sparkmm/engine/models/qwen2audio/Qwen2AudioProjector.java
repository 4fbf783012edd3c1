package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

/**
 * Qwen2-Audio's multi_modal_projector: one biased Linear from the audio tower's d_model to the
 * text decoder's hidden size (no activation, unlike LLaVA's two-layer projector).
 */
public final class Qwen2AudioProjector implements AutoCloseable {

    private final Backend backend;
    private final Tensor w; // [textHidden, dModel]
    private final Tensor b; // [textHidden]

    private Qwen2AudioProjector(Backend backend, Tensor w, Tensor b) {
        this.backend = backend;
        this.w = w;
        this.b = b;
    }

    /**
     * Loads {@code prefix + "linear.weight"} and {@code "linear.bias"} (prefix e.g. "multi_modal_projector.");
     * on failure it closes everything the loader holds.
     */
    public static Qwen2AudioProjector load(WeightLoader loader, String prefix, int dModel, int textHidden) {
        try {
            Tensor w = loader.mat(prefix + "linear.weight", textHidden, dModel);
            Tensor b = loader.vec(prefix + "linear.bias", textHidden);
            return new Qwen2AudioProjector(loader.backend(), w, b);
        } catch (RuntimeException e) {
            loader.closeAll();
            throw e;
        }
    }

    /** [n, dModel] -&gt; a new [n, textHidden]; the caller owns the result. */
    public Tensor forward(Tensor audioFeatures) {
        Tensor out = backend.zeros(audioFeatures.rows(), w.rows());
        try {
            backend.matmul(audioFeatures, w, b, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public void close() {
        w.close();
        b.close();
    }
}
