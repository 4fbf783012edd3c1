package io.sparkmm.processors.video;

/**
 * Rescale and normalize of 8-bit frames in the float32 arithmetic of HF's torchvision backend (the
 * only backend HF's video processors have), as a per-channel table of the 256 byte values: with
 * rescale and normalize both on they are fused, mean and std scaled by {@code 1 / rescale_factor} as
 * float32 ({@code float(mean) * float(1 / rescale_factor)}) and the byte then goes through
 * {@code (x - mean') / std'}; normalize alone is {@code (x - mean) / std}, rescale alone
 * {@code x * float(rescale_factor)}. (The image processors' Pillow path rescales first, which rounds
 * differently.)
 */
final class TorchvisionNormalization {

    private TorchvisionNormalization() {
    }

    /** [3][256]: the normalized value of each byte per channel. */
    static float[][] table(boolean rescale, double rescaleFactor, boolean normalize, double[] mean, double[] std) {
        float[][] lut = new float[3][256];
        for (int ch = 0; ch < 3; ch++) {
            float m = (float) mean[ch];
            float s = (float) std[ch];
            if (rescale && normalize) {
                float inv = (float) (1.0 / rescaleFactor);
                m = m * inv;
                s = s * inv;
            }
            for (int v = 0; v < 256; v++) {
                float x = v;
                if (normalize) {
                    lut[ch][v] = (x - m) / s;
                } else {
                    lut[ch][v] = rescale ? x * (float) rescaleFactor : x;
                }
            }
        }
        return lut;
    }
}
