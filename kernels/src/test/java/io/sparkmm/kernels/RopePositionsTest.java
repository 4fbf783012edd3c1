package io.sparkmm.kernels;

import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

/**
 * Sectioned rotary positions (M-RoPE, as Qwen2-VL's {@code apply_multimodal_rotary_pos_emb}):
 * the value's rules, a case worked by hand on both backends, and the 1-D case being unchanged.
 */
class RopePositionsTest {

    private static List<Backend> backends;

    @BeforeAll
    static void start() {
        backends = List.of(new ReferenceBackend(), Backends.open("cpu", 1), Backends.open("cpu", 2));
    }

    @AfterAll
    static void stop() {
        backends.forEach(Backend::close);
    }

    private static float[] rope(Backend be, float[] x, int n, RopePositions p, int heads, int hd, float[] inv,
                                float scale) {
        try (Tensor t = be.upload(x, n, heads * hd)) {
            be.rope(t, p, heads, hd, inv, scale);
            return be.download(t);
        }
    }

    private static void assertBitsEqual(String what, float[] expected, float[] actual) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail("%s: element %d is %s, expected %s", what, i, actual[i], expected[i]);
            }
        }
    }

    /**
     * One head of dim 8: 4 frequency pairs (x[i], x[i + 4]), sections [1, 1, 2] so frequency 0
     * reads the temporal row, frequency 1 the height row, frequencies 2 and 3 the width row.
     * invFreq [1, 1/2, 1/4, 1/8] makes every angle an exact float:
     *
     * <pre>
     *           rows t, h, w     f0 (t)     f1 (h)       f2 (w)        f3 (w)
     * token 0:  3, 5, 7          3 * 1 = 3  5 * .5 = 2.5 7 * .25 = 1.75 7 * .125 = .875
     * token 1:  0, 1, 2          0          1 * .5 = .5  2 * .25 = .5   2 * .125 = .25
     * </pre>
     *
     * and each pair (a, b) becomes (a cos - b sin, b cos + a sin) times the scale 1.5.
     */
    @Test
    void handComputedMultimodalRope() {
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, -1, 0.5f, 2, -3, 4, -2, 1, 0.25f};
        RopePositions positions = RopePositions.sectioned(new int[][] {{3, 0}, {5, 1}, {7, 2}}, new int[] {1, 1, 2});
        float[] inv = {1f, 0.5f, 0.25f, 0.125f};
        double[][] angles = {{3, 2.5, 1.75, 0.875}, {0, 0.5, 0.5, 0.25}};
        double scale = 1.5;
        float[] expected = new float[16];
        for (int token = 0; token < 2; token++) {
            for (int f = 0; f < 4; f++) {
                double a = x[token * 8 + f];
                double b = x[token * 8 + f + 4];
                double cos = Math.cos(angles[token][f]);
                double sin = Math.sin(angles[token][f]);
                expected[token * 8 + f] = (float) ((a * cos - b * sin) * scale);
                expected[token * 8 + f + 4] = (float) ((b * cos + a * sin) * scale);
            }
        }
        // token 1's frequency 0 sits at position 0: its pair is only scaled
        assertThat(expected[8]).isEqualTo(-1.5f);
        assertThat(expected[12]).isEqualTo(6f);
        for (Backend be : backends) {
            assertThat(rope(be, x, 2, positions, 1, 8, inv, 1.5f)).as("M-RoPE on %s", be.name())
                    .containsExactly(expected, within(1e-5f));
        }
    }

    /** With every section row equal, sectioned rope is 1-D rope: the same bits, on every backend. */
    @Test
    void equalRowsGiveTheLinearBits() {
        Random random = new Random(21);
        int n = 17;
        int heads = 3;
        int hd = 34;
        float[] x = TestData.gaussian(random, n * heads * hd, 1);
        int[] row = new int[n];
        for (int i = 0; i < n; i++) {
            row[i] = random.nextInt(10_000);
        }
        float[] inv = RopeFrequencies.standard(hd, 10_000);
        RopePositions sectioned = RopePositions.sectioned(new int[][] {row, row, row}, new int[] {5, 6, 6});
        for (Backend be : backends) {
            float[] linear = rope(be, x, n, RopePositions.linear(row), heads, hd, inv, 1.25f);
            assertBitsEqual("equal rows vs linear on " + be.name(), linear,
                    rope(be, x, n, sectioned, heads, hd, inv, 1.25f));
            assertBitsEqual("int[] overload vs linear on " + be.name(), linear, ropeWithIntArray(be, x, n, row,
                    heads, hd, inv));
        }
    }

    @SuppressWarnings("deprecation")
    private static float[] ropeWithIntArray(Backend be, float[] x, int n, int[] row, int heads, int hd, float[] inv) {
        try (Tensor t = be.upload(x, n, heads * hd)) {
            be.rope(t, row, heads, hd, inv, 1.25f);
            return be.download(t);
        }
    }

    @Test
    void accessorsAndCopies() {
        int[] row = {4, 5};
        RopePositions linear = RopePositions.linear(row);
        row[0] = 99;
        assertThat(linear.isLinear()).isTrue();
        assertThat(linear.numSections()).isEqualTo(1);
        assertThat(linear.rows()).isEqualTo(2);
        assertThat(linear.position(0, 0)).as("copied in").isEqualTo(4);
        assertThat(linear.sections()).isEmpty();
        assertThat(linear.sectionOfEachFrequency(6)).containsExactly(0, 0, 0);

        int[][] rows = {{1, 2}, {3, 4}, {5, 6}};
        int[] sections = {2, 3, 1};
        RopePositions mrope = RopePositions.sectioned(rows, sections);
        rows[2][1] = 99;
        sections[0] = 99;
        mrope.positions(2)[1] = 77;
        mrope.sections()[0] = 77;
        assertThat(mrope.isLinear()).isFalse();
        assertThat(mrope.numSections()).isEqualTo(3);
        assertThat(mrope.position(2, 1)).as("copied in and out").isEqualTo(6);
        assertThat(mrope.sections()).containsExactly(2, 3, 1);
        assertThat(mrope.sectionOfEachFrequency(12)).containsExactly(0, 0, 1, 1, 1, 2);
        assertThat(mrope).isEqualTo(RopePositions.sectioned(new int[][] {{1, 2}, {3, 4}, {5, 6}}, new int[] {2, 3, 1}))
                .isNotEqualTo(RopePositions.linear(new int[] {1, 2}));
    }

    @Test
    void badPositionsAreRejectedWithTheReason() {
        assertThatThrownBy(() -> RopePositions.sectioned(new int[][] {{1}, {2}}, new int[] {1, 1, 2}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 rows of positions for sections [1, 1, 2]");
        assertThatThrownBy(() -> RopePositions.sectioned(new int[][] {{1, 2}, {3}}, new int[] {1, 1}))
                .hasMessageContaining("position row 1 has 1 positions but row 0 has 2");
        assertThatThrownBy(() -> RopePositions.sectioned(new int[][] {{1}, {2}, {3}}, new int[] {2, 0, 3}))
                .hasMessageContaining("section 1 of [2, 0, 3] owns 0 frequency pairs");
        assertThatThrownBy(() -> RopePositions.sectioned(new int[0][], new int[0]))
                .hasMessageContaining("at least one");
        assertThatThrownBy(() -> RopePositions.linear(null)).hasMessageContaining("positions are required");
        RopePositions threePairs = RopePositions.sectioned(new int[][] {{1}, {2}, {3}}, new int[] {1, 1, 1});
        for (Backend be : backends) {
            try (Tensor x = be.zeros(1, 10); Tensor two = be.zeros(2, 6)) {
                assertThatThrownBy(() -> be.rope(x, threePairs, 1, 10, new float[5], 1f))
                        .as("on %s", be.name()).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("rope: sections [1, 1, 1] cover 3 frequency pairs but head dim 10 has 5");
                assertThatThrownBy(() -> be.rope(two, threePairs, 1, 6, new float[3], 1f))
                        .as("on %s", be.name()).hasMessageContaining("rope positions: expected 2, got 1");
            }
        }
    }
}
