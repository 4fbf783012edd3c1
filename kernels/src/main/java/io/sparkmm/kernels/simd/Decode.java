package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cpu.CpuTensor;
import io.sparkmm.kernels.cpu.Half;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;


/**
 * Decodes F16/BF16 storage to F32, vectorized. The result is bit-identical to
 * {@link CpuTensor#get} (the reference decode), so both CPU backends see the same weights.
 *
 * <p>The bytes are first bulk-copied into a {@code short[]}: loading vectors straight from a
 * ByteBuffer uses an incubator method that later JDKs removed, while arrays work on all of them.
 */
final class Decode {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = FS.withLanes(int.class);
    private static final VectorSpecies<Short> SS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FS.vectorBitSize() / 2));
    private static final int L = FS.length();
    /** 2^112 moves an F16 exponent (bias 15), placed in an F32 (bias 127), to its value; exact, also for subnormals. */
    private static final float F16_REBIAS = 0x1p112f;

    private static final ThreadLocal<short[]> BITS = ThreadLocal.withInitial(() -> new short[0]);

    private Decode() {
    }

    /** dst[off + j] = t[start + j] as F32 for j &lt; count. */
    static void range(CpuTensor t, long start, float[] dst, int off, int count) {
        if (t.isF32()) {
            System.arraycopy(t.data(), (int) start, dst, off, count);
            return;
        }
        if (t.hasBits()) {
            bits(t.dtype(), t.bits(), (int) start, dst, off, count);
            return;
        }
        short[] bits = BITS.get();
        if (bits.length < count) {
            bits = new short[count];
            BITS.set(bits);
        }
        t.getBits(start, bits, 0, count);
        bits(t.dtype(), bits, 0, dst, off, count);
    }

    /**
     * dst[off + j] = the BF16 or F16 pattern bits[bitsOff + j] as F32 for j &lt; count: the same
     * bits as {@link CpuTensor#bf16ToFloat} and {@link Half#toFloat}.
     */
    static void bits(DType dtype, short[] bits, int bitsOff, float[] dst, int off, int count) {
        if (dtype == DType.BF16) {
            bf16(bits, bitsOff, dst, off, count);
        } else {
            f16(bits, bitsOff, dst, off, count);
        }
    }

    /** The whole tensor as an F32 array: the array itself when already F32. */
    static float[] all(CpuTensor t) {
        if (t.isF32()) {
            return t.data();
        }
        float[] out = new float[(int) t.size()];
        range(t, 0, out, 0, out.length);
        return out;
    }

    private static void bf16(short[] bits, int bitsOff, float[] dst, int off, int count) {
        int j = 0;
        for (int bound = count - count % L; j < bound; j += L) {
            IntVector v = (IntVector) ShortVector.fromArray(SS, bits, bitsOff + j)
                    .convertShape(VectorOperators.S2I, IS, 0);
            v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + j);
        }
        for (; j < count; j++) {
            dst[off + j] = CpuTensor.bf16ToFloat(bits[bitsOff + j]);
        }
    }

    private static void f16(short[] bits, int bitsOff, float[] dst, int off, int count) {
        int j = 0;
        for (int bound = count - count % L; j < bound; j += L) {
            IntVector h = ((IntVector) ShortVector.fromArray(SS, bits, bitsOff + j)
                    .convertShape(VectorOperators.S2I, IS, 0)).and(0xffff);
            IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
            IntVector magnitude = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
            IntVector finite = magnitude.reinterpretAsFloats().mul(F16_REBIAS).reinterpretAsInts();
            VectorMask<Integer> special = h.and(0x7c00).eq(0x7c00);
            IntVector bitsF32 = finite.blend(magnitude.or(0x7f800000), special).or(sign);
            bitsF32.reinterpretAsFloats().intoArray(dst, off + j);
        }
        for (; j < count; j++) {
            dst[off + j] = Half.toFloat(bits[bitsOff + j]);
        }
    }
}
