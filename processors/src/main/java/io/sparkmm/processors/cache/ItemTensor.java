package io.sparkmm.processors.cache;

import java.util.Arrays;

/**
 * One named tensor of a processed media item, on the heap, row-major: pixel values, a patch
 * grid, log-mel features. Grids and other integer metadata are stored as floats; every value
 * they take (sizes, counts) is exactly representable.
 *
 * @param data the values; length = product of {@code shape}
 * @param shape the dimensions, e.g. [3, H, W] or [1, 3] for a (t, h, w) grid
 */
public record ItemTensor(float[] data, int[] shape) {

    public ItemTensor {
        long n = 1;
        for (int s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("tensor shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            n *= s;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("tensor data has " + data.length + " values, its shape "
                    + Arrays.toString(shape) + " needs " + n);
        }
        shape = shape.clone();
    }

    /** A tensor of small integers (a grid, a count), stored exactly. */
    public static ItemTensor ofInts(int[] values, int... shape) {
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            if (Math.abs(values[i]) > (1 << 24)) {
                throw new IllegalArgumentException("integer " + values[i] + " is not exact as a float");
            }
            f[i] = values[i];
        }
        return new ItemTensor(f, shape);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public int dim(int i) {
        return shape[i];
    }

    /** The values as ints (for grids); fails if one is not integral. */
    public int[] ints() {
        int[] out = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            out[i] = (int) data[i];
            if (out[i] != data[i]) {
                throw new IllegalStateException("tensor value " + data[i] + " is not an integer");
            }
        }
        return out;
    }

    public long bytes() {
        return 4L * data.length + 16L + 4L * shape.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ItemTensor t && Arrays.equals(data, t.data) && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(data) + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "ItemTensor" + Arrays.toString(shape);
    }
}
