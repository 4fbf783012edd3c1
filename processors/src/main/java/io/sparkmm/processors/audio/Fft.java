package io.sparkmm.processors.audio;

import java.util.ArrayList;
import java.util.List;

/**
 * Complex discrete Fourier transform of any fixed length n, {@code X[k] = sum_t x[t] e^{-2 pi i k t / n}}.
 *
 * <p>Mixed-radix Stockham autosort (decimation in frequency): the length is split into radices 4, 2,
 * 3, 5 (then any remaining prime, done as a plain DFT of that size), so Whisper's n = 400 = 4*4*5*5
 * costs about n * (4 + 4 + 5 + 5) complex multiply-adds instead of n^2 for a direct DFT. Stockham
 * ping-pongs between two buffers and ends in natural order: no bit reversal, which would not exist
 * for mixed radices anyway.
 *
 * <p>Immutable and thread-safe; callers pass their own scratch buffers.
 */
final class Fft {

    private final int n;
    private final int[] radices;
    /** cos and -sin of 2 pi j / n, j in [0, n): every twiddle factor is one of these. */
    private final double[] cos;
    private final double[] sin;

    Fft(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("FFT length must be positive, got " + n);
        }
        this.n = n;
        this.radices = factor(n);
        this.cos = new double[n];
        this.sin = new double[n];
        for (int j = 0; j < n; j++) {
            double angle = 2 * Math.PI * j / n;
            cos[j] = Math.cos(angle);
            sin[j] = -Math.sin(angle);
        }
    }

    int size() {
        return n;
    }

    private static int[] factor(int n) {
        List<Integer> out = new ArrayList<>();
        int rest = n;
        for (int p : new int[] {4, 2, 3, 5}) {
            while (rest % p == 0) {
                out.add(p);
                rest /= p;
            }
        }
        for (int p = 7; rest > 1; p += 2) {
            while (rest % p == 0) {
                out.add(p);
                rest /= p;
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Transforms in place.
     *
     * @param re real parts [n] (input and output)
     * @param im imaginary parts [n] (input and output)
     * @param scratchRe scratch [n]
     * @param scratchIm scratch [n]
     */
    void transform(double[] re, double[] im, double[] scratchRe, double[] scratchIm) {
        double[] xr = re;
        double[] xi = im;
        double[] yr = scratchRe;
        double[] yi = scratchIm;
        double[] zr = new double[8];
        double[] zi = new double[8];
        int len = n; // length of the sub-transforms at this stage
        int stride = 1; // how many of them are interleaved
        for (int p : radices) {
            if (zr.length < p) {
                zr = new double[p];
                zi = new double[p];
            }
            int m = len / p;
            int twStep = n / len; // e^{-2 pi i / len} = table entry twStep
            int rootStep = n / p; // e^{-2 pi i / p}
            for (int q = 0; q < m; q++) {
                for (int s = 0; s < stride; s++) {
                    for (int a = 0; a < p; a++) {
                        int idx = s + stride * (q + m * a);
                        zr[a] = xr[idx];
                        zi[a] = xi[idx];
                    }
                    for (int b = 0; b < p; b++) {
                        // Size-p DFT output b ...
                        double sr = 0;
                        double si = 0;
                        for (int a = 0; a < p; a++) {
                            int j = (a * b % p) * rootStep;
                            sr += zr[a] * cos[j] - zi[a] * sin[j];
                            si += zr[a] * sin[j] + zi[a] * cos[j];
                        }
                        // ... times the twiddle e^{-2 pi i q b / len}.
                        int j = (q * b * twStep) % n;
                        int out = s + stride * (p * q + b);
                        yr[out] = sr * cos[j] - si * sin[j];
                        yi[out] = sr * sin[j] + si * cos[j];
                    }
                }
            }
            double[] t = xr;
            xr = yr;
            yr = t;
            t = xi;
            xi = yi;
            yi = t;
            len = m;
            stride *= p;
        }
        if (xr != re) {
            System.arraycopy(xr, 0, re, 0, n);
            System.arraycopy(xi, 0, im, 0, n);
        }
    }
}
