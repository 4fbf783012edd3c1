package io.sparkmm.kernels.cpu;

import io.sparkmm.kernels.Activation;

/** Scalar functions Java lacks (erf) and the activations, in one place for every CPU backend. */
public final class ScalarMath {

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private ScalarMath() {
    }

    public static float activate(Activation act, float x) {
        return switch (act) {
            case SILU -> x / (1f + (float) Math.exp(-x));
            case GELU_ERF -> (float) (0.5 * x * (1.0 + erf(x / Math.sqrt(2.0))));
            case GELU_TANH -> (float) (0.5 * x * (1.0 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case QUICK_GELU -> x / (1f + (float) Math.exp(-1.702f * x));
        };
    }

    /**
     * erf(x) from the complementary error function's Chebyshev-fitted form
     * erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2): relative error below 1.2e-7 everywhere,
     * ample for F32 results.
     */
    public static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277))))))));
        double erfc = t * Math.exp(poly);
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }
}
