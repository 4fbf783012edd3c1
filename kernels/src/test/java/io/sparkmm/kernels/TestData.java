package io.sparkmm.kernels;

import io.sparkmm.kernels.cpu.Half;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/** Random inputs and weight encodings shared by the kernel tests (public for the simd package's). */
public final class TestData {

    private TestData() {
    }

    public static float[] gaussian(Random random, int size, double scale) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = (float) (random.nextGaussian() * scale);
        }
        return a;
    }

    /** Little-endian bytes of {@code values} in {@code dtype}, as a safetensors file holds them. */
    public static ByteBuffer encode(float[] values, DType dtype) {
        ByteBuffer bb = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> bb.putFloat(v);
                case F16 -> bb.putShort(Half.fromFloat(v));
                case BF16 -> bb.putShort(Half.bf16FromFloat(v));
            }
        }
        return bb.flip();
    }

    static ByteBuffer shorts(short... bits) {
        ByteBuffer bb = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : bits) {
            bb.putShort(s);
        }
        return bb.flip();
    }

    /** The values a weight in {@code dtype} really holds after rounding. */
    public static float[] rounded(float[] values, DType dtype) {
        float[] r = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            r[i] = switch (dtype) {
                case F32 -> values[i];
                case F16 -> Half.toFloat(Half.fromFloat(values[i]));
                case BF16 -> Float.intBitsToFloat(Half.bf16FromFloat(values[i]) << 16);
            };
        }
        return r;
    }
}
