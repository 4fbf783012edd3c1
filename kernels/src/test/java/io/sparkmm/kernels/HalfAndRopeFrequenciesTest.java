package io.sparkmm.kernels;

import io.sparkmm.kernels.cpu.Half;
import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

/** Half-precision conversions and rotary frequencies against values known by hand. */
class HalfAndRopeFrequenciesTest {

    @Test
    void f16KnownValues() {
        assertF16(1.0f, 0x3C00);
        assertF16(65504f, 0x7BFF);       // largest finite
        assertF16(0x1p-24f, 0x0001);     // smallest subnormal
        assertF16(-2.0f, 0xC000);
        assertF16(0x1p-14f, 0x0400);     // smallest normal
        assertThat(Half.fromFloat(65520f)).as("rounds past the largest finite to infinity").isEqualTo((short) 0x7C00);
        assertThat(Half.toFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Half.fromFloat(1 + 0x1p-11f)).as("tie rounds to even").isEqualTo((short) 0x3C00);
    }

    private static void assertF16(float value, int bits) {
        assertThat(Half.fromFloat(value)).as("fromFloat(%s)", value).isEqualTo((short) bits);
        assertThat(Half.toFloat((short) bits)).as("toFloat(0x%04X)", bits).isEqualTo(value);
    }

    @Test
    void bf16KnownValues() {
        assertThat(Half.bf16FromFloat(1.0f)).isEqualTo((short) 0x3F80);
        assertThat(Half.bf16FromFloat(-2.0f)).isEqualTo((short) 0xC000);
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even gives 1
        assertThat(Half.bf16FromFloat(1 + 0x1p-8f)).isEqualTo((short) 0x3F80);
    }

    @Test
    void everyF16PatternRoundTripsAndBothBackendsDecodeItAlike() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        ByteBuffer bytes = TestData.shorts(all);
        float[] expected;
        try (Backend ref = new ReferenceBackend(); Tensor t = ref.weight(DType.F16, bytes.duplicate(), 65536)) {
            expected = ref.download(t);
        }
        for (int i = 0; i < all.length; i++) {
            boolean nan = (i & 0x7C00) == 0x7C00 && (i & 0x3FF) != 0;
            if (!nan && Half.fromFloat(expected[i]) != all[i]) {
                fail("F16 0x%04X decodes to %s, which encodes back to 0x%04X", i, expected[i], Half.fromFloat(expected[i]));
            }
        }
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            float[] ref;
            try (Backend be = new ReferenceBackend(); Tensor t = be.weight(dtype, bytes.duplicate(), 65536)) {
                ref = be.download(t);
            }
            try (Backend simd = Backends.open("cpu", 2); Tensor t = simd.weight(dtype, bytes.duplicate(), 65536)) {
                float[] got = simd.download(t);
                for (int i = 0; i < got.length; i++) {
                    if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(ref[i])) {
                        fail("%s 0x%04X: SIMD decodes %s, reference %s", dtype, i, got[i], ref[i]);
                    }
                }
            }
        }
    }

    @Test
    void weightBytesMayComeFromAnyLittleEndianBuffer() {
        // a direct buffer at an offset, as a memory-mapped safetensors file gives
        ByteBuffer direct = ByteBuffer.allocateDirect(10).order(ByteOrder.LITTLE_ENDIAN);
        direct.putShort((short) 0).putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x7BFF);
        direct.position(2).limit(8);
        try (Backend simd = Backends.open("cpu", 1); Tensor t = simd.weight(DType.F16, direct, 3)) {
            assertThat(simd.download(t)).containsExactly(1f, -2f, 65504f);
        }
    }

    @Test
    void standardFrequencies() {
        // dim 4, theta 10000: 1 / 10000^(0/4) = 1, 1 / 10000^(2/4) = 0.01
        assertThat(RopeFrequencies.standard(4, 10000)).containsExactly(new float[] {1f, 0.01f}, within(1e-9f));
        assertThat(RopeFrequencies.linear(4, 10000, 4)).containsExactly(new float[] {0.25f, 0.0025f}, within(1e-9f));
    }

    @Test
    void llama3KeepsHighFrequenciesAndDividesLowOnes() {
        // dim 4: frequencies 1 and 0.01, wavelengths 2 pi = 6.28 and 200 pi = 628.3.
        // Original context 64, low factor 1, high factor 4: wavelengths below 64/4 = 16 are kept,
        // above 64/1 = 64 divided by the factor 8 -> [1, 0.00125].
        assertThat(RopeFrequencies.llama3(4, 10000, 8, 1, 4, 64))
                .containsExactly(new float[] {1f, 0.00125f}, within(1e-9f));
        // Original context 1024: 628.3 lies between 256 and 1024, so it is blended:
        // smooth = (1024 / 628.3185 - 1) / (4 - 1) = 0.2099155,
        // (1 - smooth) * 0.01 / 8 + smooth * 0.01 = 0.0030867610
        float[] blended = RopeFrequencies.llama3(4, 10000, 8, 1, 4, 1024);
        assertThat(blended[0]).isEqualTo(1f);
        assertThat(blended[1]).isCloseTo(0.0030867610f, within(1e-9f));
    }
}
