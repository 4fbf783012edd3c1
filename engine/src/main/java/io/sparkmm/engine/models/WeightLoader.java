package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.SafeTensor;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a checkpoint's tensors onto a backend, checking each stored shape, and remembers every
 * tensor it made so a loader that fails half way can close them ({@link #closeAll()}).
 */
public record WeightLoader(Checkpoint ckpt, Backend backend, List<Tensor> loaded) {

    public WeightLoader(Checkpoint ckpt, Backend backend) {
        this(ckpt, backend, new ArrayList<>());
    }

    public Tensor get(String name, int[] stored, int... asShape) {
        SafeTensor st = ckpt.tensor(name).requireShape(stored);
        Tensor t = backend.weight(st.dtype(), st.data(), asShape);
        loaded.add(t);
        return t;
    }

    public Tensor vec(String name, int n) {
        return get(name, new int[] {n}, n);
    }

    public Tensor mat(String name, int rows, int cols) {
        return get(name, new int[] {rows, cols}, rows, cols);
    }

    /**
     * A fused weight [parts * rows (, cols)] split into its row blocks (the qkv Linear into q, k
     * and v); cols absent for a bias.
     */
    public Tensor[] rowsSplit(String name, int parts, int rows, int... cols) {
        int width = cols.length == 0 ? 1 : cols[0];
        int[] stored = cols.length == 0 ? new int[] {parts * rows} : new int[] {parts * rows, width};
        SafeTensor st = ckpt.tensor(name).requireShape(stored);
        int blockBytes = rows * width * st.dtype().bytes();
        Tensor[] out = new Tensor[parts];
        for (int p = 0; p < parts; p++) {
            ByteBuffer slice = st.data().duplicate();
            slice.position(slice.position() + p * blockBytes);
            slice.limit(slice.position() + blockBytes);
            out[p] = backend.weight(st.dtype(), slice.slice(), cols.length == 0 ? new int[] {rows} : new int[] {rows, width});
            loaded.add(out[p]);
        }
        return out;
    }

    /** Closes every tensor loaded so far (after a failure part way through a model). */
    public void closeAll() {
        loaded.forEach(Tensor::close);
    }
}
