package io.sparkmm.processors.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.processors.TestMedia;
import io.sparkmm.processors.media.RgbImage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The resize against real Pillow: byte-exact on fixtures recorded with Pillow 9.4
 * ({@code src/test/python/record_pil_fixtures.py}), plus 1-D cases worked out by hand.
 */
class PilResampleTest {

    private static final Path FIXTURES = Path.of("src/test/resources/pil");

    @Test
    void byteExactAgainstPillowFixtures() throws Exception {
        JsonNode manifest = new ObjectMapper().readTree(FIXTURES.resolve("manifest.json").toFile());
        assertThat(manifest.get("resize")).hasSizeGreaterThanOrEqualTo(9);
        for (JsonNode c : manifest.get("resize")) {
            RgbImage in = TestMedia.readPng(FIXTURES.resolve(c.get("input").asText()));
            RgbImage want = TestMedia.readPng(FIXTURES.resolve(c.get("output").asText()));
            PilResample.Filter filter = PilResample.Filter.fromPil(c.get("resample").asInt());
            byte[] got = PilResample.resize(in.rgb(), in.width(), in.height(), want.width(), want.height(), filter);
            int differing = 0;
            for (int i = 0; i < got.length; i++) {
                if (got[i] != want.rgb()[i]) {
                    differing++;
                }
            }
            assertThat(differing).as("%dx%d -> %dx%d %s: bytes differing from Pillow %s", in.width(), in.height(),
                    want.width(), want.height(), filter, manifest.get("pillow").asText()).isZero();
        }
    }

    /**
     * One row [0, 100, 200, 255] halved with bicubic. Scale 2 stretches the kernel to support 4;
     * output 0 is centered at 1.0 and sees all four pixels at kernel positions (x + 0.5 - 1) / 2 =
     * -0.25, 0.25, 0.75, 1.25, weights 0.8671875, 0.8671875, 0.2265625, -0.0703125 (sum 1.890625):
     * (100 * 0.8671875 + 200 * 0.2265625 - 255 * 0.0703125) / 1.890625 = 60.35 -> 60. Output 1,
     * centered at 3.0: positions -1.25, -0.75, -0.25, 0.25:
     * (100 * 0.2265625 + 200 * 0.8671875 + 255 * 0.8671875) / 1.890625 = 220.68 -> 221.
     */
    @Test
    void handComputedBicubicDownscale() {
        byte[] row = rgbRow(0, 100, 200, 255);
        byte[] out = PilResample.resize(row, 4, 1, 2, 1, PilResample.Filter.BICUBIC);
        assertThat(channel0(out)).containsExactly(60, 221);
    }

    /**
     * Upscaling keeps the plain kernel (support 2); [0, 0, 255, 255] doubled, output xx centered
     * at (xx + 0.5) / 2, kernel position of input x = x + 0.5 - center:
     * <ul>
     *   <li>xx = 2 (center 1.25, window [0, 3)): -0.75, 0.25, 1.25 -> 0.2265625, 0.8671875,
     *       -0.0703125 (sum 1.0234375); only pixel 2 is bright: 255 * -0.0703125 / 1.0234375 =
     *       -17.5 -> clipped to 0 (the undershoot is cut);</li>
     *   <li>xx = 3 (center 1.75, window [0, 4)): -1.25, -0.25, 0.75, 1.75 -> -0.0703125, 0.8671875,
     *       0.2265625, -0.0234375 (sum 1): 255 * (0.2265625 - 0.0234375) = 51.8 -> 52;</li>
     *   <li>xx = 4 (center 2.25): -1.75, -0.75, 0.25, 1.25 -> 255 * (0.8671875 - 0.0703125) = 203.2
     *       -> 203;</li>
     *   <li>xx = 5 (center 2.75, window [1, 4)): -1.25, -0.25, 0.75 -> 255 * 1.09375 / 1.0234375 =
     *       272.5 -> clipped to 255.</li>
     * </ul>
     */
    @Test
    void handComputedBicubicUpscaleWithClipping() {
        byte[] row = rgbRow(0, 0, 255, 255);
        byte[] out = PilResample.resize(row, 4, 1, 8, 1, PilResample.Filter.BICUBIC);
        int[] v = channel0(out);
        assertThat(new int[] {v[2], v[3], v[4], v[5]}).containsExactly(0, 52, 203, 255);
    }

    @Test
    void weightsAreNormalizedAndTheCacheReturnsOneTable() {
        for (int[] io : new int[][] {{512, 336}, {100, 420}, {517, 336}, {7, 3}, {3, 7}}) {
            PilResample.Coefficients c = PilResample.coefficients(io[0], io[1], PilResample.Filter.BICUBIC);
            for (int o = 0; o < io[1]; o++) {
                double sum = 0;
                for (int k = 0; k < c.count()[o]; k++) {
                    sum += c.weights()[o * c.ksize() + k];
                }
                assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
                assertThat(c.start()[o]).isBetween(0, io[0] - 1);
                assertThat(c.start()[o] + c.count()[o]).isLessThanOrEqualTo(io[0]);
            }
            assertThat(PilResample.coefficients(io[0], io[1], PilResample.Filter.BICUBIC)).isSameAs(c);
        }
    }

    @Test
    void sameSizeIsACopyAndUnknownFiltersAreNamed() {
        byte[] row = rgbRow(1, 2, 3);
        assertThat(PilResample.resize(row, 3, 1, 3, 1, PilResample.Filter.BICUBIC)).isEqualTo(row).isNotSameAs(row);
        assertThatThrownBy(() -> PilResample.Filter.fromPil(1)).hasMessageContaining("unsupported resample 1");
    }

    private static byte[] rgbRow(int... values) {
        byte[] out = new byte[values.length * 3];
        for (int i = 0; i < values.length; i++) {
            out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = (byte) values[i];
        }
        return out;
    }

    private static int[] channel0(byte[] rgb) {
        int[] out = new int[rgb.length / 3];
        for (int i = 0; i < out.length; i++) {
            out[i] = rgb[3 * i] & 0xFF;
        }
        return out;
    }
}
