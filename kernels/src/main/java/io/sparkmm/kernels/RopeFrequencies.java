package io.sparkmm.kernels;

/**
 * Rotary inverse frequencies as Hugging Face computes them ({@code ROPE_INIT_FUNCTIONS}), in F32.
 * Pure math; the model passes the result to {@link Backend#rope}.
 */
public final class RopeFrequencies {

    private RopeFrequencies() {
    }

    /** Default rope: invFreq[i] = 1 / theta^(2i / dim), i in [0, dim/2). */
    public static float[] standard(int dim, double theta) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) dim;
            inv[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        return inv;
    }

    /** "linear" scaling: positions are divided by the factor, i.e. every frequency is. */
    public static float[] linear(int dim, double theta, double factor) {
        float[] inv = standard(dim, theta);
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) (inv[i] / factor);
        }
        return inv;
    }

    /**
     * "llama3" scaling: low frequencies (long wavelengths) are divided by the factor, high ones
     * kept, and the band between blended smoothly.
     */
    public static float[] llama3(int dim, double theta, double factor, double lowFreqFactor,
                                 double highFreqFactor, int originalMaxPositions) {
        float[] inv = standard(dim, theta);
        double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
        double highFreqWavelen = originalMaxPositions / highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            double freq = inv[i];
            double wavelen = 2 * Math.PI / freq;
            double scaled;
            if (wavelen < highFreqWavelen) {
                scaled = freq;
            } else if (wavelen > lowFreqWavelen) {
                scaled = freq / factor;
            } else {
                double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled = (1 - smooth) * freq / factor + smooth * freq;
            }
            inv[i] = (float) scaled;
        }
        return inv;
    }
}
