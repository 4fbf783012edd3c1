package io.sparkmm.engine.models.llava;

/**
 * A ViT patch embedding's input for the convolution-as-matmul: the image's non-overlapping p x p
 * patches as rows. Shared by the CLIP and SigLIP towers, whose patch convolutions differ only in
 * the bias (and by Qwen-VL's, which has none).
 */
public final class ConvPatches {

    private ConvPatches() {
    }

    /**
     * [P, C*p*p] from [C, s, s]: row py*g + px is the patch at grid cell (py, px), row-major like the
     * conv output flattened; within a row the order is (channel, ky, kx), the order of the kernel's
     * elements. Pixels beyond g*p at the right and bottom are never read, as the convolution never
     * reads them.
     */
    public static float[] flatten(float[] chw, int channels, int imageSize, int patchSize) {
        int s = imageSize;
        int p = patchSize;
        int g = s / p;
        int width = channels * p * p;
        float[] out = new float[g * g * width];
        for (int py = 0; py < g; py++) {
            for (int px = 0; px < g; px++) {
                int row = (py * g + px) * width;
                for (int ch = 0; ch < channels; ch++) {
                    for (int ky = 0; ky < p; ky++) {
                        System.arraycopy(chw, ch * s * s + (py * p + ky) * s + px * p, out, row + (ch * p + ky) * p, p);
                    }
                }
            }
        }
        return out;
    }
}
