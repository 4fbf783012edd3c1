package io.sparkmm.kernels;

import java.util.Arrays;

/**
 * A handle to storage owned by a {@link Backend}. Model code holds handles, never raw arrays,
 * so a device backend can keep weights, activations and caches where it computes.
 *
 * <p>Tensors are row-major. Activations are 2-D {@code [rows, cols]}; vectors are 1-D {@code [n]}.
 */
public interface Tensor extends AutoCloseable {

    DType dtype();

    /** The shape; callers must not modify the array. */
    int[] shape();

    default int rank() {
        return shape().length;
    }

    /** Number of rows: the first dimension (1 for a vector). */
    default int rows() {
        int[] s = shape();
        return s.length == 1 ? 1 : s[0];
    }

    /** Number of columns: the product of every dimension after the first (the length of a vector). */
    default int cols() {
        int[] s = shape();
        if (s.length == 1) {
            return s[0];
        }
        int c = 1;
        for (int i = 1; i < s.length; i++) {
            c *= s[i];
        }
        return c;
    }

    default long size() {
        long n = 1;
        for (int d : shape()) {
            n *= d;
        }
        return n;
    }

    /** Releases the storage; using the handle afterwards is an error. Closing twice is allowed. */
    @Override
    void close();

    static String describe(int[] shape) {
        return Arrays.toString(shape);
    }
}
