package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.Tensor;

/**
 * A tensor in device memory: a device pointer, a shape and the dtype the bytes are stored in
 * (F32 for activations; weights as uploaded). The host never sees its values except through
 * {@link CudaBackend#download}.
 */
public final class CudaTensor implements Tensor {

    private final CudaBackend owner;
    private final long pointer;
    private final int[] shape;
    private final DType dtype;
    private boolean closed;
    /** An F32 copy of a 16-bit weight, made once for kernels that read F32 only (a matmul bias). */
    private CudaTensor f32;

    CudaTensor(CudaBackend owner, long pointer, int[] shape, DType dtype) {
        this.owner = owner;
        this.pointer = pointer;
        this.shape = shape.clone();
        this.dtype = dtype;
    }

    /** Number of elements of a shape, checked the way every backend checks it. */
    static long checkedSize(int[] shape) {
        if (shape.length == 0) {
            throw new IllegalArgumentException("a tensor needs at least one dimension");
        }
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Tensor.describe(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor " + Tensor.describe(shape) + " exceeds 2^31 elements");
            }
        }
        return n;
    }

    /** {@code t} as a tensor of {@code owner}, or an error naming the op. */
    static CudaTensor owned(Tensor t, CudaBackend owner, String op) {
        if (t instanceof CudaTensor c && c.owner == owner) {
            return c;
        }
        throw new IllegalArgumentException(op + ": tensor " + t + " was not made by " + owner.name());
    }

    /** As {@link #owned}, and F32: what every kernel reads and writes activations as. */
    static CudaTensor activation(Tensor t, CudaBackend owner, String op) {
        CudaTensor c = owned(t, owner, op);
        if (c.dtype != DType.F32) {
            throw new IllegalArgumentException(op + ": tensor " + Tensor.describe(c.shape) + " is " + c.dtype
                    + "; activations must be F32");
        }
        return c;
    }

    /** The device pointer; throws if closed. */
    long pointer() {
        if (closed) {
            throw new IllegalStateException("tensor " + Tensor.describe(shape) + " was closed");
        }
        return pointer;
    }

    long bytes() {
        return size() * dtype.bytes();
    }

    CudaBackend owner() {
        return owner;
    }

    CudaTensor f32Copy() {
        return f32;
    }

    void f32Copy(CudaTensor copy) {
        this.f32 = copy;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int[] shape() {
        return shape;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        owner.release(pointer);
        if (f32 != null) {
            f32.close();
        }
    }

    @Override
    public String toString() {
        return "CudaTensor" + Tensor.describe(shape) + " " + dtype;
    }
}
