package io.sparkmm.processors.image;

import io.sparkmm.processors.media.RgbImage;

/**
 * Hugging Face's {@code CLIPImageProcessor} (the Python, Pillow-based one): resize, center crop,
 * rescale, normalize, channels first. Numerically it follows the Python steps:
 * <ol>
 *   <li>resize on uint8 with Pillow's resampling ({@link PilResample}); with a shortest edge N the
 *       long side becomes {@code int(N * long / short)} (transformers' get_resize_output_image_size);</li>
 *   <li>center crop with transformers' offsets, {@code top = (h - cropH) // 2}, zero-padding an image
 *       that is smaller than the crop (the pad goes first: {@code ceil((cropH - h) / 2)} rows on top);</li>
 *   <li>rescale in float64 and store as float32, then normalize in float32:
 *       {@code (float32(v * factor) - float32(mean)) / float32(std)}.</li>
 * </ol>
 * Steps 2 and 3 are fused: a uint8 value maps to its normalized float through a 256-entry table
 * per channel, which is exact because the per-pixel math depends on the byte value alone.
 *
 * <p>Thread-safe and immutable.
 */
public final class ClipImageProcessor {

    private final ClipImageProcessorConfig config;
    private final PilResample.Filter filter;
    /** Normalized value of each byte value, per channel: [3, 256]. */
    private final float[][] lut;

    public ClipImageProcessor(ClipImageProcessorConfig config) {
        this.config = config;
        this.filter = PilResample.Filter.fromPil(config.resample());
        this.lut = PixelNormalization.table(config.doRescale(), config.rescaleFactor(), config.doNormalize(),
                config.imageMean(), config.imageStd());
    }

    public ClipImageProcessorConfig config() {
        return config;
    }

    /** Output height when it does not depend on the input (crop, or fixed resize); else an error. */
    public int outputHeight() {
        if (config.doCenterCrop()) {
            return config.cropHeight();
        }
        if (config.doResize() && config.shortestEdge() == 0) {
            return config.sizeHeight();
        }
        throw new IllegalStateException("the output height depends on the input: use outputSize(width, height)");
    }

    /** Output width when it does not depend on the input (crop, or fixed resize); else an error. */
    public int outputWidth() {
        if (config.doCenterCrop()) {
            return config.cropWidth();
        }
        if (config.doResize() && config.shortestEdge() == 0) {
            return config.sizeWidth();
        }
        throw new IllegalStateException("the output width depends on the input: use outputSize(width, height)");
    }

    /** {height, width} of {@code process}'s output for an input of this size. */
    public int[] outputSize(int width, int height) {
        if (config.doCenterCrop()) {
            return new int[] {config.cropHeight(), config.cropWidth()};
        }
        return resizedSize(width, height);
    }

    /** {height, width} after the resize step. */
    int[] resizedSize(int width, int height) {
        if (!config.doResize()) {
            return new int[] {height, width};
        }
        if (config.shortestEdge() == 0) {
            return new int[] {config.sizeHeight(), config.sizeWidth()};
        }
        int n = config.shortestEdge();
        int shortSide = Math.min(width, height);
        int longSide = Math.max(width, height);
        // Python's int(n * long / short): exact integer product, true division, truncation.
        int newLong = (int) ((double) ((long) n * longSide) / shortSide);
        return width <= height ? new int[] {newLong, n} : new int[] {n, newLong};
    }

    /**
     * Preprocesses one image.
     *
     * @return pixel_values, CHW float [3, outH, outW] (see {@link #outputSize})
     */
    public float[] process(RgbImage image) {
        int[] out = outputSize(image.width(), image.height());
        float[] dst = new float[3 * out[0] * out[1]];
        processInto(image, dst, 0);
        return dst;
    }

    /**
     * Like {@link #process} but writes into {@code dst} from {@code offset} (for batched [N, 3, H, W]
     * or video [T, 3, H, W] tensors).
     *
     * @return the number of floats written, 3 * outH * outW
     */
    public int processInto(RgbImage image, float[] dst, int offset) {
        int[] rs = resizedSize(image.width(), image.height());
        int h = rs[0];
        int w = rs[1];
        byte[] rgb = image.rgb();
        if (config.doResize()) {
            rgb = PilResample.resize(rgb, image.width(), image.height(), w, h, filter);
        }
        int outH = config.doCenterCrop() ? config.cropHeight() : h;
        int outW = config.doCenterCrop() ? config.cropWidth() : w;
        int top = config.doCenterCrop() ? cropOffset(h, outH) : 0;
        int left = config.doCenterCrop() ? cropOffset(w, outW) : 0;
        int plane = outH * outW;
        if (dst.length - offset < 3 * plane) {
            throw new IllegalArgumentException("dst has room for " + (dst.length - offset)
                    + " floats from offset " + offset + ", needs " + 3 * plane);
        }
        // A padded position holds byte 0 before rescaling, as in transformers' center_crop.
        float pad0 = lut[0][0];
        float pad1 = lut[1][0];
        float pad2 = lut[2][0];
        float[] lut0 = lut[0];
        float[] lut1 = lut[1];
        float[] lut2 = lut[2];
        for (int y = 0; y < outH; y++) {
            int sy = y + top;
            int o = offset + y * outW;
            boolean rowInside = sy >= 0 && sy < h;
            for (int x = 0; x < outW; x++, o++) {
                int sx = x + left;
                if (rowInside && sx >= 0 && sx < w) {
                    int p = (sy * w + sx) * 3;
                    dst[o] = lut0[rgb[p] & 0xFF];
                    dst[o + plane] = lut1[rgb[p + 1] & 0xFF];
                    dst[o + 2 * plane] = lut2[rgb[p + 2] & 0xFF];
                } else {
                    dst[o] = pad0;
                    dst[o + plane] = pad1;
                    dst[o + 2 * plane] = pad2;
                }
            }
        }
        return 3 * plane;
    }

    /**
     * Source index of crop position 0 along an axis of {@code size} cropped to {@code crop}: inside,
     * Python's {@code (size - crop) // 2}; when padding, minus the {@code ceil((crop - size) / 2)}
     * zeros put before the image.
     */
    static int cropOffset(int size, int crop) {
        if (size >= crop) {
            return (size - crop) / 2;
        }
        return -((crop - size + 1) / 2);
    }
}
