package io.sparkmm.processors.image;

/**
 * HF image processors' rescale then normalize, for 8-bit input: since a channel byte has only 256
 * values, each channel's result is precomputed once, in the float arithmetic HF uses
 * ({@code v * rescale_factor}, then {@code (x - mean) / std}), and pixels become table lookups.
 */
final class PixelNormalization {

    private PixelNormalization() {
    }

    /**
     * The normalized value of each byte value per channel: [3][256].
     *
     * @param mean per-channel mean, used when {@code normalize}
     * @param std per-channel std, used when {@code normalize}
     */
    static float[][] table(boolean rescale, double rescaleFactor, boolean normalize, double[] mean, double[] std) {
        float[][] lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            float m = (float) mean[c];
            float s = (float) std[c];
            for (int v = 0; v < 256; v++) {
                float x = rescale ? (float) (v * rescaleFactor) : (float) v;
                lut[c][v] = normalize ? (x - m) / s : x;
            }
        }
        return lut;
    }
}
