package io.sparkmm.engine.checkpoint;

import io.sparkmm.kernels.DType;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: its bytes as stored, ready for {@link io.sparkmm.kernels.Backend#weight}.
 *
 * @param name  the tensor's name in the file header, e.g. {@code model.norm.weight}
 * @param file  the file it lives in (for error messages)
 * @param dtype F32, F16 or BF16
 * @param shape row-major dimensions; callers must not modify the array
 * @param data  exactly the tensor's bytes, little-endian, read-only, memory-mapped; position 0.
 *              Each {@link Checkpoint#tensor} call returns a fresh view, so callers may move its
 *              position freely.
 */
public record SafeTensor(String name, Path file, DType dtype, int[] shape, ByteBuffer data) {

    /** Number of elements (the product of the shape; 1 for a scalar). */
    public long size() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * Returns this tensor when its shape is {@code expected}, else throws naming the tensor, its file
     * and both shapes: model code calls this for every weight so that a checkpoint that does not
     * match its config.json fails at load with a precise message instead of producing garbage.
     */
    public SafeTensor requireShape(int... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new CheckpointException("tensor " + name + " in " + file + " has shape "
                    + Arrays.toString(shape) + ", expected " + Arrays.toString(expected));
        }
        return this;
    }

    @Override
    public String toString() {
        return "SafeTensor[" + name + " " + dtype + Arrays.toString(shape) + " in " + file + "]";
    }
}
