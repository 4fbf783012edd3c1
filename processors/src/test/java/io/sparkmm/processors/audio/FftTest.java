package io.sparkmm.processors.audio;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FftTest {

    /** Against the O(n^2) definition, on lengths that exercise every radix path and a plain prime. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 30, 49, 60, 100, 400, 512, 1000, 11 * 13})
    void matchesTheDefinition(int n) {
        Random random = new Random(n);
        double[] re = new double[n];
        double[] im = new double[n];
        for (int i = 0; i < n; i++) {
            re[i] = random.nextGaussian();
            im[i] = random.nextGaussian();
        }
        double[] wantRe = new double[n];
        double[] wantIm = new double[n];
        for (int k = 0; k < n; k++) {
            for (int t = 0; t < n; t++) {
                double a = -2 * Math.PI * ((long) k * t % n) / n;
                wantRe[k] += re[t] * Math.cos(a) - im[t] * Math.sin(a);
                wantIm[k] += re[t] * Math.sin(a) + im[t] * Math.cos(a);
            }
        }
        new Fft(n).transform(re, im, new double[n], new double[n]);
        for (int k = 0; k < n; k++) {
            assertThat(re[k]).as("re[%d] of n=%d", k, n).isCloseTo(wantRe[k], org.assertj.core.data.Offset.offset(1e-9 * n));
            assertThat(im[k]).as("im[%d] of n=%d", k, n).isCloseTo(wantIm[k], org.assertj.core.data.Offset.offset(1e-9 * n));
        }
    }
}
