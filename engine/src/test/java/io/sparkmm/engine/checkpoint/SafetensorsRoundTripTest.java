package io.sparkmm.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.kernels.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafetensorsRoundTripTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(DType.class)
    void writerToCheckpointRoundTripsEveryDtype(DType dtype) {
        float[] values = sample(new Random(42), 6 * 7);
        float[] vector = {1f, -0f, 0.5f, 1e-3f, -65504f, 3.14159265f};
        Fixtures.configOnly(dir);
        new SafetensorsWriter()
                .add("m.w", dtype, new int[] {6, 7}, values)
                .add("m.v", dtype, new int[] {6}, vector)
                .write(dir.resolve("model.safetensors"));

        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertThat(ckpt.tensorNames()).containsExactly("m.v", "m.w");
            SafeTensor w = ckpt.tensor("m.w").requireShape(6, 7);
            assertThat(w.dtype()).isEqualTo(dtype);
            assertThat(w.file()).isEqualTo(dir.toAbsolutePath().normalize().resolve("model.safetensors"));
            assertThat(w.data().isReadOnly()).isTrue();
            assertThat(w.data().order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            assertThat(w.data().remaining()).isEqualTo(6 * 7 * dtype.bytes());
            assertThat(Fixtures.decode(w)).containsExactly(rounded(values, dtype));
            assertThat(Fixtures.decode(ckpt.tensor("m.v").requireShape(6))).containsExactly(rounded(vector, dtype));
        }
    }

    @Test
    void bf16BitPatternsMatchHandComputedRounding() {
        // value -> expected bfloat16 bits (round to nearest, ties to even)
        float[] in = {1f, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 3.14159265f, -2f, 65504f, 0f, -0f};
        short[] want = {0x3F80, 0x3F80, 0x3F82, 0x4049, (short) 0xC000, 0x4780, 0x0000, (short) 0x8000};
        assertThat(rawShorts(DType.BF16, in)).containsExactly(want);
    }

    @Test
    void f16BitPatternsMatchHandComputedRounding() {
        float[] in = {1f, 0.1f, 65504f, -2f, 0x1p-24f, 1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 1e5f};
        short[] want = {0x3C00, 0x2E66, 0x7BFF, (short) 0xC000, 0x0001, 0x3C00, 0x3C02, 0x7C00};
        assertThat(rawShorts(DType.F16, in)).containsExactly(want);
    }

    @Test
    void headerFollowsReferenceLayout() throws IOException {
        Path file = dir.resolve("x.safetensors");
        new SafetensorsWriter()
                .add("b", DType.BF16, new int[] {3}, new float[] {1, 2, 3})
                .add("a", DType.BF16, new int[] {1}, new float[] {1})
                .add("c", DType.F32, new int[] {2}, new float[] {1, 2})
                .write(file);
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertThat(n % 8).as("header padded to 8 bytes").isZero();
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{");
        assertThat(header.strip()).endsWith("}");
        JsonNode root = JsonFields.MAPPER.readTree(header);
        List<String> keys = new ArrayList<>();
        root.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactly("__metadata__", "a", "b", "c");
        assertThat(root.get("__metadata__").get("format").asText()).isEqualTo("pt");
        // Larger elements first, so each tensor is aligned to its element size.
        assertThat(root.get("c").get("data_offsets").toString()).isEqualTo("[0,8]");
        assertThat(root.get("a").get("data_offsets").toString()).isEqualTo("[8,10]");
        assertThat(root.get("b").get("data_offsets").toString()).isEqualTo("[10,16]");
        assertThat(bytes.length).isEqualTo(8 + n + 16);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(Fixtures.decode(f.tensor("b"))).containsExactly(1, 2, 3);
            // Each call is a fresh view: consuming one does not disturb the next.
            f.tensor("c").data().getFloat();
            assertThat(f.tensor("c").data().position()).isZero();
        }
    }

    @Test
    void zeroSizedAndScalarTensorsAreAllowed() {
        Path file = dir.resolve("x.safetensors");
        new SafetensorsWriter()
                .add("empty", DType.F32, new int[] {0, 4}, new float[0])
                .add("scalar", DType.F32, new int[] {}, new float[] {7})
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.tensor("empty").data().remaining()).isZero();
            assertThat(f.tensor("scalar").requireShape().size()).isEqualTo(1);
            assertThat(Fixtures.decode(f.tensor("scalar"))).containsExactly(7f);
        }
    }

    private short[] rawShorts(DType dtype, float[] in) {
        Path file = dir.resolve(dtype + ".safetensors");
        new SafetensorsWriter().add("t", dtype, new int[] {in.length}, in).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            ByteBuffer b = f.tensor("t").data();
            short[] out = new short[in.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = b.getShort(2 * i);
            }
            return out;
        }
    }

    /** Values over many magnitudes, including exact ties and F16 subnormals. */
    private static float[] sample(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 6));
        }
        x[0] = 1f + 0x1p-8f;     // BF16 tie, rounds down to even
        x[1] = 1f + 3 * 0x1p-8f; // BF16 tie, rounds up to even
        x[2] = 1f + 0x1p-11f;    // F16 tie
        x[3] = 0x1p-25f * 3;     // F16 subnormal tie region
        return x;
    }

    /** Expected stored values, by nearest-representable search (independent of Half's bit tricks). */
    private static float[] rounded(float[] x, DType dtype) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> x[i];
                case BF16 -> nearestBf16(x[i]);
                case F16 -> nearestF16(x[i]);
            };
        }
        return out;
    }

    private static float nearestBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int lo = bits & 0xFFFF0000; // same sign, magnitude truncated
        int hi = lo + 0x10000;      // next magnitude up
        double dLo = Math.abs((double) f - Float.intBitsToFloat(lo));
        double dHi = Math.abs((double) Float.intBitsToFloat(hi) - f);
        int pick = dLo < dHi ? lo : dHi < dLo ? hi : (((lo >>> 16) & 1) == 0 ? lo : hi);
        return Float.intBitsToFloat(pick);
    }

    private static final float[] F16_POSITIVE = positiveHalves();

    private static float[] positiveHalves() {
        float[] v = new float[0x7C00]; // every finite non-negative half, ascending with its bits
        for (int h = 0; h < v.length; h++) {
            v[h] = Fixtures.halfToFloat(h);
        }
        return v;
    }

    private static float nearestF16(float f) {
        float a = Math.abs(f);
        int i = Arrays.binarySearch(F16_POSITIVE, a);
        float r;
        if (i >= 0) {
            r = F16_POSITIVE[i];
        } else {
            int hiIdx = -i - 1;
            if (hiIdx >= F16_POSITIVE.length) {
                // Above 65504: rounds to 65504 below the midpoint to the next (absent) step 65536.
                r = a < 65520f ? 65504f : Float.POSITIVE_INFINITY;
            } else {
                int loIdx = hiIdx - 1;
                double dLo = a - (double) F16_POSITIVE[loIdx];
                double dHi = (double) F16_POSITIVE[hiIdx] - a;
                r = F16_POSITIVE[dLo < dHi ? loIdx : dHi < dLo ? hiIdx : (loIdx % 2 == 0 ? loIdx : hiIdx)];
            }
        }
        return f < 0 || (f == 0 && 1 / f < 0) ? -r : r;
    }
}
