package io.sparkmm.kernels.cpu;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Heap storage shared by the CPU backends: F32 activations in a {@code float[]}; F16/BF16 weights
 * either as the little-endian bytes they were stored in (possibly memory-mapped) or, made by
 * {@link #rawOnHeap}, as their bit patterns in a {@code short[]} that vector kernels can load
 * from directly (the Vector API of every JDK loads from arrays); decoded on read either way.
 */
public final class CpuTensor implements Tensor {

    private final DType dtype;
    private final int[] shape;
    private float[] data;
    private ByteBuffer raw;
    private short[] bits;
    private boolean closed;
    /** Made from checkpoint bytes ({@link #raw}, {@link #rawOnHeap}): its values never change. */
    private final boolean weight;
    /** A backend's derived form of a weight (e.g. repacked for its kernels), made once, dropped on close. */
    private Object derived;

    private CpuTensor(DType dtype, int[] shape, float[] data, ByteBuffer raw, short[] bits, boolean weight) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
        this.raw = raw;
        this.bits = bits;
        this.weight = weight;
    }

    public static CpuTensor f32(float[] data, int... shape) {
        checkShape(shape);
        if (data.length != product(shape)) {
            throw new IllegalArgumentException("data length " + data.length + " does not match shape "
                    + Tensor.describe(shape));
        }
        return new CpuTensor(DType.F32, shape, data, null, null, false);
    }

    public static CpuTensor raw(DType dtype, ByteBuffer bytes, int... shape) {
        checkShape(shape);
        long expected = product(shape) * dtype.bytes();
        if (bytes.remaining() != expected) {
            throw new IllegalArgumentException("weight of shape " + Tensor.describe(shape) + " in " + dtype
                    + " needs " + expected + " bytes, got " + bytes.remaining());
        }
        if (dtype == DType.F32) {
            // F32 weights are copied to the heap once: the fast paths then read plain arrays.
            float[] f = new float[(int) product(shape)];
            bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
            return new CpuTensor(DType.F32, shape, f, null, null, true);
        }
        return new CpuTensor(dtype, shape, null, bytes.slice().order(ByteOrder.LITTLE_ENDIAN), null, true);
    }

    /**
     * As {@link #raw}, but F16/BF16 values are copied to a heap {@code short[]} (their bit
     * patterns, unchanged), so the bytes are on the heap like F32 weights and streaming kernels
     * read them as arrays; the source buffer is not kept.
     */
    public static CpuTensor rawOnHeap(DType dtype, ByteBuffer bytes, int... shape) {
        if (dtype == DType.F32) {
            return raw(dtype, bytes, shape);
        }
        checkShape(shape);
        long expected = product(shape) * dtype.bytes();
        if (bytes.remaining() != expected) {
            throw new IllegalArgumentException("weight of shape " + Tensor.describe(shape) + " in " + dtype
                    + " needs " + expected + " bytes, got " + bytes.remaining());
        }
        short[] b = new short[(int) product(shape)];
        bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(b);
        return new CpuTensor(dtype, shape, null, null, b, true);
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int[] shape() {
        return shape;
    }

    /** The F32 array; only for F32 tensors. */
    public float[] data() {
        checkOpen();
        if (data == null) {
            throw new IllegalStateException("tensor " + Tensor.describe(shape) + " is stored as " + dtype
                    + ", not as an F32 array");
        }
        return data;
    }

    /** The raw little-endian bytes; only for F16/BF16 tensors not made by {@link #rawOnHeap}. */
    public ByteBuffer raw() {
        checkOpen();
        if (raw == null) {
            throw new IllegalStateException("tensor " + Tensor.describe(shape) + " has no raw bytes");
        }
        return raw;
    }

    /** The F16/BF16 bit patterns of a tensor made by {@link #rawOnHeap}. */
    public short[] bits() {
        checkOpen();
        if (bits == null) {
            throw new IllegalStateException("tensor " + Tensor.describe(shape) + " has no heap bit patterns");
        }
        return bits;
    }

    /** True when {@link #bits()} holds the values (F16/BF16 made by {@link #rawOnHeap}). */
    public boolean hasBits() {
        return bits != null;
    }

    public boolean isF32() {
        return data != null;
    }

    /** Element {@code i} (row-major) as F32, whatever the storage. */
    public float get(long i) {
        checkOpen();
        if (data != null) {
            return data[(int) i];
        }
        short b = bits != null ? bits[(int) i] : raw.getShort((int) (i * 2));
        return dtype == DType.BF16 ? bf16ToFloat(b) : Half.toFloat(b);
    }

    /** Decodes {@code count} elements starting at {@code start} into {@code dst[dstOff..]}. */
    public void getRange(long start, float[] dst, int dstOff, int count) {
        checkOpen();
        if (data != null) {
            System.arraycopy(data, (int) start, dst, dstOff, count);
            return;
        }
        if (bits != null) {
            int b0 = (int) start;
            for (int j = 0; j < count; j++) {
                short b = bits[b0 + j];
                dst[dstOff + j] = dtype == DType.BF16 ? bf16ToFloat(b) : Half.toFloat(b);
            }
            return;
        }
        int base = (int) (start * 2);
        if (dtype == DType.BF16) {
            for (int j = 0; j < count; j++) {
                dst[dstOff + j] = bf16ToFloat(raw.getShort(base + 2 * j));
            }
        } else {
            for (int j = 0; j < count; j++) {
                dst[dstOff + j] = Half.toFloat(raw.getShort(base + 2 * j));
            }
        }
    }

    /** True for tensors made from checkpoint bytes, whose values never change. */
    public boolean isWeight() {
        return weight;
    }

    /**
     * The weight's derived form made by {@code make} on first use and kept with the tensor (a
     * backend's repacked copy): only for {@link #isWeight() weights}, whose values cannot change
     * under it. One caller makes it; concurrent callers wait for that one.
     */
    @SuppressWarnings("unchecked")
    public synchronized <T> T derived(Class<T> type, java.util.function.Function<CpuTensor, T> make) {
        checkOpen();
        if (!weight) {
            throw new IllegalStateException("tensor " + Tensor.describe(shape) + " is not a weight: its values may change");
        }
        if (!type.isInstance(derived)) {
            derived = make.apply(this);
        }
        return (T) derived;
    }

    /** The F16/BF16 bit patterns of elements [start, start + count), from the heap or the raw bytes. */
    public void getBits(long start, short[] dst, int dstOff, int count) {
        checkOpen();
        if (bits != null) {
            System.arraycopy(bits, (int) start, dst, dstOff, count);
            return;
        }
        if (raw == null) {
            throw new IllegalStateException("tensor " + Tensor.describe(shape) + " is F32, it has no 16-bit patterns");
        }
        // absolute bulk get: safe on a buffer other threads read too (no position change)
        raw.asShortBuffer().get((int) start, dst, dstOff, count);
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    @Override
    public void close() {
        closed = true;
        derived = null;
        data = null;
        raw = null;
        bits = null;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tensor " + Tensor.describe(shape) + " was closed");
        }
    }

    /** Unwraps a handle made by a CPU backend. */
    public static CpuTensor of(Tensor t) {
        if (t instanceof CpuTensor c) {
            return c;
        }
        throw new IllegalArgumentException("tensor " + t + " was not made by a CPU backend");
    }

    static long product(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    private static void checkShape(int[] shape) {
        if (shape.length == 0) {
            throw new IllegalArgumentException("a tensor needs at least one dimension");
        }
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Tensor.describe(shape));
            }
        }
        if (product(shape) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + Tensor.describe(shape) + " exceeds 2^31 elements");
        }
    }

    @Override
    public String toString() {
        return "CpuTensor" + Tensor.describe(shape) + " " + dtype;
    }
}
