package io.sparkmm.processors.image;

import io.sparkmm.processors.media.RgbImage;

/**
 * Hugging Face's Qwen2-VL image processor, Pillow path ({@code Qwen2VLImageProcessorPil} in
 * transformers 5; in 4.x the slow {@code Qwen2VLImageProcessor}): smart resize, rescale, normalize,
 * then patchify into the flat sequence the Qwen2-VL vision tower consumes.
 * <ol>
 *   <li>resize on uint8 to {@link SmartResize}'s size with Pillow's resampling ({@link PilResample});</li>
 *   <li>rescale in float64 stored as float32, normalize in float32 (one 256-entry table per channel,
 *       exact because the value depends on the byte alone, as in {@link ClipImageProcessor});</li>
 *   <li>patchify: rows are patches ordered by merge window first (so the model can merge each
 *       mergeSize x mergeSize window of consecutive rows into one token), then row/column inside
 *       the window; columns are (channel, time, patch row, patch column). HF gets this from a reshape
 *       to [C, gh/m, m, P, gw/m, m, P], the permutation (1, 4, 2, 5, 0, 3, 6), and a broadcast of the
 *       still image over temporal_patch_size.</li>
 * </ol>
 *
 * <p>Thread-safe and immutable.
 */
public final class Qwen2VlImageProcessor {

    private final Qwen2VlImageProcessorConfig config;
    private final PilResample.Filter filter;
    /** Normalized value of each byte value, per channel: [3, 256]. */
    private final float[][] lut;

    public Qwen2VlImageProcessor(Qwen2VlImageProcessorConfig config) {
        this.config = config;
        this.filter = PilResample.Filter.fromPil(config.resample());
        this.lut = PixelNormalization.table(config.doRescale(), config.rescaleFactor(), config.doNormalize(),
                config.imageMean(), config.imageStd());
    }

    public Qwen2VlImageProcessorConfig config() {
        return config;
    }

    /** {height, width} the image is resized to (the input size when do_resize is off). */
    public int[] resizedSize(int width, int height) {
        if (!config.doResize()) {
            return new int[] {height, width};
        }
        return SmartResize.resize(height, width, config.factor(), config.minPixels(), config.maxPixels());
    }

    /**
     * {t, h, w} of {@code image_grid_thw} for an input of this size, without touching pixels (for
     * counting placeholder tokens: the model sees {@code t * h * w / mergeSize^2} tokens).
     */
    public int[] gridThw(int width, int height) {
        int[] hw = resizedSize(width, height);
        checkDivisible(hw[0], hw[1]);
        return new int[] {1, hw[0] / config.patchSize(), hw[1] / config.patchSize()};
    }

    /** Columns of pixel_values: 3 * temporalPatchSize * patchSize^2. */
    public int patchDim() {
        return 3 * config.temporalPatchSize() * config.patchSize() * config.patchSize();
    }

    /** Preprocesses one image into its patches and grid. */
    public Qwen2VlPatches process(RgbImage image) {
        int[] thw = gridThw(image.width(), image.height());
        float[] dst = new float[thw[0] * thw[1] * thw[2] * patchDim()];
        processInto(image, dst, 0);
        return new Qwen2VlPatches(dst, thw[0], thw[1], thw[2]);
    }

    /**
     * Like {@link #process} but writes the [numPatches, patchDim] block into {@code dst} from
     * {@code offset}, so that several images concatenate along the patch axis as in HF.
     *
     * @return the number of floats written
     */
    public int processInto(RgbImage image, float[] dst, int offset) {
        int[] hw = resizedSize(image.width(), image.height());
        int h = hw[0];
        int w = hw[1];
        checkDivisible(h, w);
        byte[] rgb = image.rgb();
        if (config.doResize()) {
            rgb = PilResample.resize(rgb, image.width(), image.height(), w, h, filter);
        }
        int p = config.patchSize();
        int m = config.mergeSize();
        int t = config.temporalPatchSize();
        int gh = h / p;
        int gw = w / p;
        int patchDim = patchDim();
        int total = gh * gw * patchDim;
        if (dst.length - offset < total) {
            throw new IllegalArgumentException("dst has room for " + (dst.length - offset)
                    + " floats from offset " + offset + ", needs " + total);
        }
        int plane = t * p * p; // floats per channel within a patch row
        int row = 0;
        for (int bh = 0; bh < gh / m; bh++) {
            for (int bw = 0; bw < gw / m; bw++) {
                for (int mh = 0; mh < m; mh++) {
                    for (int mw = 0; mw < m; mw++, row++) {
                        int y0 = (bh * m + mh) * p;
                        int x0 = (bw * m + mw) * p;
                        int base = offset + row * patchDim;
                        Qwen2VlPatches.writeNormalized(lut, rgb, w, y0, x0, p, plane, dst, base);
                        // The still image fills every temporal slot: copy slot 0 of each channel.
                        for (int c = 0; c < 3; c++) {
                            int c0 = base + c * plane;
                            for (int s = 1; s < t; s++) {
                                System.arraycopy(dst, c0, dst, c0 + s * p * p, p * p);
                            }
                        }
                    }
                }
            }
        }
        return total;
    }

    /** HF's reshape fails unless both sides are whole merge windows; say so with the numbers. */
    private void checkDivisible(int h, int w) {
        int f = config.factor();
        if (h % f != 0 || w % f != 0) {
            throw new IllegalArgumentException("image size " + h + "x" + w + " (height x width) is not a multiple of"
                    + " patch_size * merge_size = " + f + "; enable do_resize or resize the image first");
        }
    }
}
