package io.sparkmm.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@link Backend#matmuls} (q/k/v and gate/up in one op) must give every output exactly the bits of
 * its own {@link Backend#matmul}, on both CPU backends, for decode-sized and prefill-sized n, mixed
 * weight dtypes, biases present and absent, and column counts that make thread chunks span two
 * weights.
 */
class FusedMatmulsTest {

    @Test
    void eachOutputIsItsOwnMatmul() {
        Random random = new Random(19);
        int k = 70;
        int[] ms = {45, 7, 7};
        DType[] dtypes = {DType.BF16, DType.F32, DType.F16};
        for (String device : new String[] {"cpu", "cpu-reference"}) {
            for (int threads : new int[] {1, 2}) {
                try (Backend be = Backends.open(device, threads)) {
                    Tensor[] ws = new Tensor[3];
                    Tensor[] bs = new Tensor[3];
                    for (int i = 0; i < 3; i++) {
                        ws[i] = be.weight(dtypes[i], TestData.encode(TestData.gaussian(random, ms[i] * k, 0.3), dtypes[i]),
                                ms[i], k);
                        bs[i] = i == 1 ? null : be.upload(TestData.gaussian(random, ms[i], 1), ms[i]);
                    }
                    for (int n : new int[] {1, 3, 8, 9, 40}) {
                        try (Tensor x = be.upload(TestData.gaussian(random, n * k, 1), n, k)) {
                            Tensor[] fused = {be.zeros(n, ms[0]), be.zeros(n, ms[1]), be.zeros(n, ms[2])};
                            be.matmuls(x, ws, bs, fused);
                            for (int i = 0; i < 3; i++) {
                                try (Tensor alone = be.zeros(n, ms[i])) {
                                    be.matmul(x, ws[i], bs[i], alone);
                                    float[] e = be.download(alone);
                                    float[] a = be.download(fused[i]);
                                    assertThat(a).hasSameSizeAs(e);
                                    for (int j = 0; j < e.length; j++) {
                                        if (Float.floatToIntBits(e[j]) != Float.floatToIntBits(a[j])) {
                                            fail("%s, %d threads, n=%d, weight %d: element %d is %s fused, %s alone",
                                                    be.name(), threads, n, i, j, a[j], e[j]);
                                        }
                                    }
                                }
                                fused[i].close();
                            }
                        }
                    }
                }
            }
        }
    }
}
