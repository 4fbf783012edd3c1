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
}
