package io.sparkmm.kernels;

import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Every Backend op on the reference oracle and on the SIMD backend (1 and 2 threads), over odd
 * shapes (1, 3, 17, 64, 129 and k values that are not multiples of the vector length),
 * F32/F16/BF16 weights, and 1-D and sectioned rope positions.
 *
 * <p>Tolerances: both backends read the same decoded weights, so differences come only from the
 * order of F32 additions (and fused multiply-adds). For a dot product of length k that error
 * grows like sqrt(k) times the sum of |terms| times F32 epsilon (6e-8), so matmul allows
 * 1e-6 * sqrt(k) * sum|x_p w_p| + 1e-6 (about 16 epsilons per sqrt(k)). Row ops (norms, softmax,
 * attention) allow 1e-5 absolute + 1e-5 relative; element-wise ops that do the same scalar
 * arithmetic allow 1e-6 relative; argmax, embedding, copyRows and download must be exact.
 */
class BackendEquivalenceTest {

    private static final int[] SIZES = {1, 3, 17, 64, 129};
    private static final int[] KS = {1, 3, 7, 17, 64, 129, 300};
    private static final int[] MS = {1, 4, 17, 129};

    private static Backend reference;
    private static List<Backend> simds;

    @BeforeAll
    static void start() {
        reference = new ReferenceBackend();
        simds = List.of(Backends.open("cpu", 1), Backends.open("cpu", 2));
    }

    @AfterAll
    static void stop() {
        reference.close();
        simds.forEach(Backend::close);
    }

    interface Tolerance {
        double allowed(int index, float expected);
    }

    private static Tolerance rowOps() {
        return (i, e) -> 1e-5 + 1e-5 * Math.abs(e);
    }

    private static void compare(String what, Function<Backend, float[]> op, Tolerance tol) {
        float[] expected = op.apply(reference);
        for (Backend simd : simds) {
            float[] actual = op.apply(simd);
            assertThat(actual).as("%s on %s: length", what, simd.name()).hasSameSizeAs(expected);
            for (int i = 0; i < expected.length; i++) {
                double diff = Math.abs((double) actual[i] - expected[i]);
                if (!(diff <= tol.allowed(i, expected[i]))) {
                    fail("%s on %s: element %d is %s, reference %s (allowed difference %s)",
                            what, simd.name(), i, actual[i], expected[i], tol.allowed(i, expected[i]));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void matmulMatchesReference(DType dtype) {
        Random random = new Random(1);
        int variant = 0;
        for (int n : SIZES) {
            for (int k : KS) {
                for (int m : MS) {
                    float[] x = TestData.gaussian(random, n * k, 1);
                    float[] w = TestData.gaussian(random, m * k, 0.5);
                    float[] bias = TestData.gaussian(random, m, 1);
                    float[] wr = TestData.rounded(w, dtype);
                    // no bias, F32 bias, or a bias stored like the weight
                    int biasKind = variant++ % 3;
                    float[] br = biasKind == 2 ? TestData.rounded(bias, dtype) : bias;
                    Tolerance tol = (idx, e) -> {
                        int i = idx / m;
                        int j = idx % m;
                        double abs = biasKind == 0 ? 0 : Math.abs(br[j]);
                        for (int p = 0; p < k; p++) {
                            abs += Math.abs(x[i * k + p] * wr[j * k + p]);
                        }
                        return 1e-6 * Math.sqrt(k) * abs + 1e-6;
                    };
                    compare("matmul n=" + n + " k=" + k + " m=" + m + " " + dtype + " bias " + biasKind, be -> {
                        try (Tensor xt = be.upload(x, n, k);
                             Tensor wt = be.weight(dtype, TestData.encode(w, dtype), m, k);
                             Tensor bt = switch (biasKind) {
                                 case 0 -> null;
                                 case 1 -> be.upload(bias, m);
                                 default -> be.weight(dtype, TestData.encode(bias, dtype), m);
                             };
                             Tensor out = be.zeros(n, m)) {
                            be.matmul(xt, wt, bt, out);
                            return be.download(out);
                        }
                    }, tol);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void normsMatchReference(DType dtype) {
        Random random = new Random(2);
        for (int n : SIZES) {
            for (int d : KS) {
                float[] x = TestData.gaussian(random, n * d, 3);
                float[] w = TestData.gaussian(random, d, 1);
                float[] b = TestData.gaussian(random, d, 1);
                compare("rmsNorm n=" + n + " d=" + d + " " + dtype, be -> {
                    try (Tensor xt = be.upload(x, n, d); Tensor wt = be.weight(dtype, TestData.encode(w, dtype), d)) {
                        be.rmsNorm(xt, wt, 1e-6f, xt); // in place, as allowed
                        return be.download(xt);
                    }
                }, rowOps());
                compare("layerNorm n=" + n + " d=" + d + " " + dtype, be -> {
                    try (Tensor xt = be.upload(x, n, d); Tensor out = be.zeros(n, d);
                         Tensor wt = be.weight(dtype, TestData.encode(w, dtype), d);
                         Tensor bt = be.weight(dtype, TestData.encode(b, dtype), d)) {
                        be.layerNorm(xt, wt, bt, 1e-5f, out);
                        return be.download(out);
                    }
                }, rowOps());
            }
        }
    }

    @Test
    void softmaxAndArgmaxMatchReference() {
        Random random = new Random(3);
        for (int n : SIZES) {
            for (int d : KS) {
                float[] x = TestData.gaussian(random, n * d, 4);
                // ties: the first of equal maxima must win in both backends
                if (d > 2) {
                    x[d - 1] = 100f;
                    x[1] = 100f;
                }
                compare("softmax n=" + n + " d=" + d, be -> {
                    try (Tensor xt = be.upload(x, n, d); Tensor out = be.zeros(n, d)) {
                        be.softmax(xt, out);
                        return be.download(out);
                    }
                }, rowOps());
                int[] expected;
                try (Tensor xt = reference.upload(x, n, d)) {
                    expected = reference.argmax(xt);
                }
                for (Backend simd : simds) {
                    try (Tensor xt = simd.upload(x, n, d)) {
                        assertThat(simd.argmax(xt)).as("argmax n=%d d=%d on %s", n, d, simd.name())
                                .containsExactly(expected);
                    }
                }
            }
        }
    }

    @Test
    void ropeMatchesReference() {
        Random random = new Random(4);
        int[][] headsAndDims = {{1, 2}, {2, 6}, {3, 16}, {2, 34}, {4, 64}};
        for (int n : SIZES) {
            for (int[] hd : headsAndDims) {
                int heads = hd[0];
                int dim = hd[1];
                float[] x = TestData.gaussian(random, n * heads * dim, 1);
                int[] positions = new int[n];
                for (int i = 0; i < n; i++) {
                    positions[i] = random.nextInt(5000);
                }
                float[] inv = RopeFrequencies.standard(dim, 10000);
                float scale = n % 2 == 0 ? 1f : 1.25f;
                compare("rope n=" + n + " heads=" + heads + " hd=" + dim, be -> {
                    try (Tensor xt = be.upload(x, n, heads * dim)) {
                        be.rope(xt, RopePositions.linear(positions), heads, dim, inv, scale);
                        return be.download(xt);
                    }
                }, rowOps());
            }
        }
    }

    /**
     * M-RoPE: frequencies split into sections, each rotating by its own row of positions. Head
     * dims 6, 10 and 34 leave 3, 5 and 17 pairs (shorter than a vector, or with a tail); 128 with
     * [16, 24, 24] is Qwen2-VL's own split.
     */
    @Test
    void sectionedRopeMatchesReference() {
        Random random = new Random(9);
        Object[][] configs = {
            {1, 6, new int[] {1, 1, 1}}, {3, 10, new int[] {2, 3}}, {2, 10, new int[] {1, 2, 2}},
            {2, 34, new int[] {5, 6, 6}}, {3, 128, new int[] {16, 24, 24}},
        };
        for (int n : SIZES) {
            for (Object[] config : configs) {
                int heads = (int) config[0];
                int dim = (int) config[1];
                int[] sections = (int[]) config[2];
                float[] x = TestData.gaussian(random, n * heads * dim, 1);
                int[][] rows = new int[sections.length][n];
                for (int[] row : rows) {
                    for (int i = 0; i < n; i++) {
                        row[i] = random.nextInt(5000);
                    }
                }
                RopePositions positions = RopePositions.sectioned(rows, sections);
                float[] inv = RopeFrequencies.standard(dim, 1_000_000);
                float scale = n % 2 == 0 ? 1f : 1.25f;
                compare("sectioned rope n=" + n + " heads=" + heads + " hd=" + dim + " " + positions, be -> {
                    try (Tensor xt = be.upload(x, n, heads * dim)) {
                        be.rope(xt, positions, heads, dim, inv, scale);
                        return be.download(xt);
                    }
                }, rowOps());
            }
        }
    }

    @Test
    void elementWiseOpsMatchReference() {
        Random random = new Random(5);
        // 100_003 elements crosses the threshold where the SIMD backend splits over threads
        int[][] shapes = {{1, 1}, {3, 7}, {17, 129}, {64, 300}, {1, 100_003}};
        Tolerance sameArithmetic = (i, e) -> 1e-6 * Math.abs(e);
        for (int[] s : shapes) {
            int n = s[0];
            int d = s[1];
            float[] a = TestData.gaussian(random, n * d, 3);
            float[] b = TestData.gaussian(random, n * d, 3);
            String shape = n + "x" + d;
            compare("add " + shape, be -> {
                try (Tensor at = be.upload(a, n, d); Tensor bt = be.upload(b, n, d)) {
                    be.add(at, bt, at); // out aliases a
                    return be.download(at);
                }
            }, (i, e) -> 0);
            compare("siluMul " + shape, be -> {
                try (Tensor g = be.upload(a, n, d); Tensor u = be.upload(b, n, d); Tensor out = be.zeros(n, d)) {
                    be.siluMul(g, u, out);
                    return be.download(out);
                }
            }, sameArithmetic);
            for (Activation act : Activation.values()) {
                compare(act + " " + shape, be -> {
                    try (Tensor xt = be.upload(a, n, d)) {
                        be.activation(act, xt, xt);
                        return be.download(xt);
                    }
                }, sameArithmetic);
            }
        }
    }

    @Test
    void attentionMatchesReference() {
        Random random = new Random(6);
        int[][] headConfigs = {{1, 1, 3}, {2, 2, 8}, {4, 2, 17}, {6, 1, 20}, {8, 2, 64}};
        for (int n : new int[] {1, 3, 17, 64}) {
            for (int[] hc : headConfigs) {
                int heads = hc[0];
                int kvHeads = hc[1];
                int hd = hc[2];
                float[] q = TestData.gaussian(random, n * heads * hd, 1);
                float[] k = TestData.gaussian(random, n * kvHeads * hd, 1);
                float[] v = TestData.gaussian(random, n * kvHeads * hd, 1);
                float scale = (float) (1 / Math.sqrt(hd));
                for (boolean causal : new boolean[] {true, false}) {
                    compare("attention n=" + n + " hq=" + heads + " hkv=" + kvHeads + " hd=" + hd
                            + " causal=" + causal, be -> {
                        try (Tensor qt = be.upload(q, n, heads * hd); Tensor kt = be.upload(k, n, kvHeads * hd);
                             Tensor vt = be.upload(v, n, kvHeads * hd); Tensor out = be.zeros(n, heads * hd)) {
                            be.attention(qt, kt, vt, out, heads, kvHeads, hd, scale, causal);
                            return be.download(out);
                        }
                    }, (i, e) -> 1e-5 + 1e-4 * Math.abs(e));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void storageOpsAreExact(DType dtype) {
        Random random = new Random(7);
        int vocab = 129;
        int d = 17;
        float[] table = TestData.gaussian(random, vocab * d, 1);
        int[] ids = {0, 128, 5, 5, 64};
        compare("embedding " + dtype, be -> {
            try (Tensor t = be.weight(dtype, TestData.encode(table, dtype), vocab, d);
                 Tensor out = be.zeros(ids.length, d)) {
                be.embedding(t, ids, out);
                return be.download(out);
            }
        }, (i, e) -> 0);
        compare("download " + dtype, be -> {
            try (Tensor t = be.weight(dtype, TestData.encode(table, dtype), vocab, d)) {
                return be.download(t);
            }
        }, (i, e) -> 0);
        compare("copyRows from " + dtype, be -> {
            try (Tensor t = be.weight(dtype, TestData.encode(table, dtype), vocab, d);
                 Tensor out = be.upload(TestData.gaussian(new Random(8), 10 * d, 1), 10, d)) {
                be.copyRows(t, 100, out, 3, 6);
                return be.download(out);
            }
        }, (i, e) -> 0);
        compare("zeros and upload", be -> {
            try (Tensor z = be.zeros(3, 5); Tensor u = be.upload(table, vocab, d)) {
                float[] zs = be.download(z);
                float[] us = be.download(u);
                float[] both = new float[zs.length + us.length];
                System.arraycopy(zs, 0, both, 0, zs.length);
                System.arraycopy(us, 0, both, zs.length, us.length);
                return both;
            }
        }, (i, e) -> 0);
    }

    @Test
    void shapeErrorsNameTheOp() {
        for (Backend simd : simds) {
            try (Tensor x = simd.zeros(2, 3); Tensor w = simd.zeros(4, 5); Tensor out = simd.zeros(2, 4)) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> simd.matmul(x, w, null, out))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("matmul").hasMessageContaining("[2, 3]").hasMessageContaining("[4, 5]");
            }
            try (Tensor table = simd.zeros(4, 2); Tensor out = simd.zeros(1, 2)) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> simd.embedding(table, new int[] {4}, out))
                        .hasMessageContaining("token id 4");
            }
        }
    }
}
