package io.sparkmm.processors.image;

/**
 * One item's Qwen2-VL processor output, image or video.
 *
 * @param pixelValues flat float [gridT * gridH * gridW, 3 * temporalPatchSize * patchSize * patchSize],
 *                    row-major (HF's {@code pixel_values} / {@code pixel_values_videos} rows of this item)
 * @param gridT       temporal patches: 1 for a still image, ceil(frames / temporal_patch_size) for a video
 * @param gridH       patch rows
 * @param gridW       patch columns
 */
public record Qwen2VlPatches(float[] pixelValues, int gridT, int gridH, int gridW) {

    /** HF's {@code image_grid_thw} / {@code video_grid_thw} row: {t, h, w}. */
    public long[] gridThw() {
        return new long[] {gridT, gridH, gridW};
    }

    /** Rows of {@code pixelValues}: gridT * gridH * gridW. */
    public int numPatches() {
        return gridT * gridH * gridW;
    }

    /**
     * Writes the p x p patch of an RGB frame (width w) at (y0, x0) into {@code dst}: channel c's
     * values from {@code base + c * plane}, row-major, each byte normalized through {@code lut[c]}
     * (256 entries per channel). Shared by the image and video processors, whose tables differ.
     */
    public static void writeNormalized(float[][] lut, byte[] rgb, int w, int y0, int x0, int p, int plane,
                                       float[] dst, int base) {
        float[] lut0 = lut[0];
        float[] lut1 = lut[1];
        float[] lut2 = lut[2];
        for (int py = 0; py < p; py++) {
            int src = ((y0 + py) * w + x0) * 3;
            int o = base + py * p;
            for (int px = 0; px < p; px++, src += 3, o++) {
                dst[o] = lut0[rgb[src] & 0xFF];
                dst[o + plane] = lut1[rgb[src + 1] & 0xFF];
                dst[o + 2 * plane] = lut2[rgb[src + 2] & 0xFF];
            }
        }
    }
}
