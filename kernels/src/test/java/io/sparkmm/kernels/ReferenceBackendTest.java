package io.sparkmm.kernels;

import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The oracle itself, against small cases worked by hand. */
class ReferenceBackendTest {

    private final Backend be = new ReferenceBackend();

    private float[] run1(float[] x, int n, int d, java.util.function.BiConsumer<Tensor, Tensor> op) {
        try (Tensor xt = be.upload(x, n, d); Tensor out = be.zeros(n, d)) {
            op.accept(xt, out);
            return be.download(out);
        }
    }

    @Test
    void matmulWithBias() {
        // x = [[1,2,3],[4,5,6]], w = [[1,0,-1],[2,1,0]], bias = [0.5,-1]
        // row 0: [1-3+0.5, 2+2-1] = [-1.5, 3]; row 1: [4-6+0.5, 8+5-1] = [-1.5, 12]
        try (Tensor x = be.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
             Tensor w = be.upload(new float[] {1, 0, -1, 2, 1, 0}, 2, 3);
             Tensor b = be.upload(new float[] {0.5f, -1}, 2);
             Tensor out = be.zeros(2, 2)) {
            be.matmul(x, w, b, out);
            assertThat(be.download(out)).containsExactly(-1.5f, 3f, -1.5f, 12f);
            be.matmul(x, w, null, out);
            assertThat(be.download(out)).containsExactly(-2f, 4f, -2f, 13f);
        }
    }

    @Test
    void matmulReadsHalfWeights() {
        // w = [[1, -2]] as F16 0x3C00, 0xC000 and as BF16 0x3F80, 0xC000; x = [3, 4] -> 3 - 8 = -5
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            short one = dtype == DType.F16 ? (short) 0x3C00 : (short) 0x3F80;
            try (Tensor x = be.upload(new float[] {3, 4}, 1, 2);
                 Tensor w = be.weight(dtype, TestData.shorts(one, (short) 0xC000), 1, 2);
                 Tensor out = be.zeros(1, 1)) {
                be.matmul(x, w, null, out);
                assertThat(be.download(out)).as("%s", dtype).containsExactly(-5f);
            }
        }
    }

    @Test
    void rmsNormOfThreeFour() {
        try (Tensor w = be.upload(new float[] {1, 2}, 2)) {
            float[] out = run1(new float[] {3, 4}, 1, 2, (x, o) -> be.rmsNorm(x, w, 0f, o));
            double rms = Math.sqrt(12.5);
            assertThat(out[0]).isCloseTo((float) (3 / rms), within(1e-6f));
            assertThat(out[1]).isCloseTo((float) (2 * 4 / rms), within(1e-6f));
        }
    }

    @Test
    void layerNormCentersAndScales() {
        // [1, 3]: mean 2, biased variance 1 -> [-1, 1], then * [2, 3] + [10, 20] = [8, 23]
        try (Tensor w = be.upload(new float[] {2, 3}, 2); Tensor b = be.upload(new float[] {10, 20}, 2)) {
            float[] out = run1(new float[] {1, 3}, 1, 2, (x, o) -> be.layerNorm(x, w, b, 0f, o));
            assertThat(out).containsExactly(new float[] {8, 23}, within(1e-6f));
        }
    }

    @Test
    void softmaxOfZeroAndLn3() {
        float[] out = run1(new float[] {0, (float) Math.log(3)}, 1, 2, be::softmax);
        assertThat(out).containsExactly(new float[] {0.25f, 0.75f}, within(1e-6f));
    }

    @Test
    void causalAttentionOverTwoRows() {
        // one head, hd 2, scale 1. Row 0 sees only key 0: output v0.
        // Row 1: scores q1.k0 = 0, q1.k1 = ln 3 -> weights [1/4, 3/4] -> [1,2]/4 + [3,4]*3/4 = [2.5, 3.5]
        float ln3 = (float) Math.log(3);
        try (Tensor q = be.upload(new float[] {5, 7, 1, 0}, 2, 2);
             Tensor k = be.upload(new float[] {0, 0, ln3, 0}, 2, 2);
             Tensor v = be.upload(new float[] {1, 2, 3, 4}, 2, 2);
             Tensor out = be.zeros(2, 2)) {
            be.attention(q, k, v, out, 1, 1, 2, 1f, true);
            assertThat(be.download(out)).containsExactly(new float[] {1, 2, 2.5f, 3.5f}, within(1e-6f));
            // non-causal row 0 now sees key 1 too: q0.k0 = 0, q0.k1 = 5 ln 3 -> weights [1, 243] / 244
            be.attention(q, k, v, out, 1, 1, 2, 1f, false);
            float[] o = be.download(out);
            assertThat(o[0]).isCloseTo((1 + 3 * 243f) / 244, within(1e-5f));
            assertThat(o[1]).isCloseTo((2 + 4 * 243f) / 244, within(1e-5f));
        }
    }

    @Test
    void groupedQueryHeadsReadTheirKvHead() {
        // one row: softmax over one key is 1, so each query head outputs its KV head's value.
        // 4 query heads on 2 KV heads: heads 0,1 -> kv 0; heads 2,3 -> kv 1.
        try (Tensor q = be.upload(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 1, 8);
             Tensor k = be.upload(new float[] {1, 1, 1, 1}, 1, 4);
             Tensor v = be.upload(new float[] {10, 11, 20, 21}, 1, 4);
             Tensor out = be.zeros(1, 8)) {
            be.attention(q, k, v, out, 4, 2, 2, 0.5f, true);
            assertThat(be.download(out)).containsExactly(10, 11, 10, 11, 20, 21, 20, 21);
        }
        try (Tensor q = be.zeros(1, 6); Tensor k = be.zeros(1, 4); Tensor v = be.zeros(1, 4); Tensor out = be.zeros(1, 6)) {
            assertThatThrownBy(() -> be.attention(q, k, v, out, 3, 2, 2, 1f, true))
                    .hasMessageContaining("attention").hasMessageContaining("3 query heads");
        }
    }

    @Test
    void ropeAtPositionZeroIsIdentityAndQuarterTurnRotates() {
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8};
        try (Tensor t = be.upload(x, 1, 8)) {
            be.rope(t, RopePositions.linear(new int[] {0}), 2, 4, new float[] {1f, 0.5f}, 1f);
            assertThat(be.download(t)).containsExactly(x);
        }
        // hd 2, angle = 1 * pi/2: (a, b) -> (a cos - b sin, b cos + a sin) = (-b, a); scale 2 doubles it
        try (Tensor t = be.upload(new float[] {3, 5}, 1, 2)) {
            be.rope(t, RopePositions.linear(new int[] {1}), 1, 2, new float[] {(float) (Math.PI / 2)}, 2f);
            assertThat(be.download(t)).containsExactly(new float[] {-10, 6}, within(1e-5f));
        }
    }

    @Test
    void activationsAtOne() {
        float[] expected = {
            0.7310586f,                               // silu(1) = 1 / (1 + e^-1)
            0.8413447f,                               // gelu erf(1) = Phi(1)
            0.8411920f,                               // gelu tanh(1)
            (float) (1 / (1 + Math.exp(-1.702))),     // quick_gelu(1)
        };
        Activation[] acts = Activation.values();
        for (int i = 0; i < acts.length; i++) {
            Activation act = acts[i];
            float[] out = run1(new float[] {1}, 1, 1, (x, o) -> be.activation(act, x, o));
            assertThat(out[0]).as("%s(1)", act).isCloseTo(expected[i], within(2e-7f));
        }
        float[] zero = run1(new float[] {0, -30}, 1, 2, (x, o) -> be.activation(Activation.GELU_ERF, x, o));
        assertThat(zero).containsExactly(new float[] {0, 0}, within(1e-7f));
    }

    @Test
    void siluMulAddArgmax() {
        try (Tensor g = be.upload(new float[] {1, 0}, 1, 2); Tensor u = be.upload(new float[] {2, 9}, 1, 2);
             Tensor out = be.zeros(1, 2)) {
            be.siluMul(g, u, out);
            assertThat(be.download(out)).containsExactly(new float[] {2 * 0.7310586f, 0}, within(1e-6f));
            be.add(g, u, out);
            assertThat(be.download(out)).containsExactly(3, 9);
        }
        try (Tensor x = be.upload(new float[] {1, 5, 5, 2, -1, -3, -1, -2}, 2, 4)) {
            assertThat(be.argmax(x)).containsExactly(1, 0); // first of ties
        }
    }

    @Test
    void embeddingAndCopyRows() {
        // BF16 table [[1,2],[3,4],[5,6]]: 1=0x3F80 2=0x4000 3=0x4040 4=0x4080 5=0x40A0 6=0x40C0
        ByteBuffer bytes = TestData.shorts((short) 0x3F80, (short) 0x4000, (short) 0x4040, (short) 0x4080,
                (short) 0x40A0, (short) 0x40C0);
        try (Tensor table = be.weight(DType.BF16, bytes, 3, 2); Tensor out = be.zeros(2, 2)) {
            be.embedding(table, new int[] {2, 0}, out);
            assertThat(be.download(out)).containsExactly(5, 6, 1, 2);
            assertThatThrownBy(() -> be.embedding(table, new int[] {3, 0}, out)).hasMessageContaining("token id 3");
            try (Tensor dst = be.zeros(4, 2)) {
                be.copyRows(table, 1, dst, 2, 2);
                assertThat(be.download(dst)).containsExactly(0, 0, 0, 0, 3, 4, 5, 6);
                assertThatThrownBy(() -> be.copyRows(table, 2, dst, 0, 2)).hasMessageContaining("copyRows source");
            }
        }
    }
}
