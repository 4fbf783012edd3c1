package io.sparkmm.processors.image;

import io.sparkmm.processors.media.RgbImage;

/**
 * Hugging Face's {@code LlavaOnevisionImageProcessor} (the Pillow path) for one image.
 *
 * <p>An image that is alone in its prompt goes through AnyRes: the best grid pinpoint is chosen
 * ({@link AnyResGrid#selectBestResolution}), the image is resized inside it keeping its aspect ratio,
 * centered on a zero (black) canvas of the pinpoint's size, and cut into square tiles row by row; the
 * whole image squashed to the patch size comes first (the "base" patch the model sees as a global view).
 * An image of a multi-image prompt is instead padded to a square with the mean colour and resized: one
 * patch. Resizing is Pillow's on bytes ({@link PilResample}); rescale and normalize are the byte tables
 * of {@link PixelNormalization}, exact because HF pads with byte 0 before rescaling.
 *
 * <p>Batch padding to a common patch count ({@code do_pad}) is left to whoever batches: it only appends
 * zero patches that the model discards.
 *
 * <p>Thread-safe and immutable.
 */
public final class LlavaOnevisionImageProcessor {

    private final LlavaOnevisionImageProcessorConfig config;
    private final PilResample.Filter filter;
    private final int[][] pinpoints;
    /** Normalized value of each byte value, per channel: [3, 256]. */
    private final float[][] lut;

    public LlavaOnevisionImageProcessor(LlavaOnevisionImageProcessorConfig config) {
        this.config = config;
        this.filter = PilResample.Filter.fromPil(config.resample());
        this.pinpoints = config.pinpoints();
        this.lut = PixelNormalization.table(config.doRescale(), config.rescaleFactor(), config.doNormalize(),
                config.imageMean(), config.imageStd());
    }

    public LlavaOnevisionImageProcessorConfig config() {
        return config;
    }

    /** {height, width} of the grid pinpoint an image of this size is tiled on. */
    public int[] bestResolution(int imageHeight, int imageWidth) {
        return AnyResGrid.selectBestResolution(imageHeight, imageWidth, pinpoints);
    }

    /** Number of patches {@link #process} yields for an image of this size: 1 base + the tiles. */
    public int numPatches(int imageHeight, int imageWidth) {
        int[] best = bestResolution(imageHeight, imageWidth);
        int t = config.tileSize();
        return 1 + ceilDiv(best[0], t) * ceilDiv(best[1], t);
    }

    /** An image that is the only one of its prompt: AnyRes tiles after the base patch. */
    public LlavaOnevisionPixels process(RgbImage image) {
        int h = image.height();
        int w = image.width();
        int outH = config.sizeHeight();
        int outW = config.sizeWidth();
        int plane = 3 * outH * outW;
        int n = numPatches(h, w);
        float[] dst = new float[n * plane];

        byte[] base = PilResample.resize(image.rgb(), w, h, outW, outH, filter);
        normalize(base, outW, outH, 0, 0, outW, outH, dst, 0);

        int[] best = bestResolution(h, w);
        int[] fit = AnyResGrid.patchOutputSize(h, w, best[0], best[1]);
        byte[] fitted = PilResample.resize(image.rgb(), w, h, fit[1], fit[0], filter);
        // Centered on the canvas; an odd remainder goes to the bottom/right (Python divmod).
        int top = (best[0] - fit[0]) / 2;
        int left = (best[1] - fit[1]) / 2;
        int t = config.tileSize();
        int offset = plane;
        for (int y0 = 0; y0 < best[0]; y0 += t) {
            for (int x0 = 0; x0 < best[1]; x0 += t) {
                int th = Math.min(t, best[0] - y0);
                int tw = Math.min(t, best[1] - x0);
                if (th == outH && tw == outW) {
                    normalize(fitted, fit[1], fit[0], x0 - left, y0 - top, tw, th, dst, offset);
                } else {
                    // A tile of another size (crop_size != size, or a pinpoint that is not a multiple of
                    // the tile) is resized to the patch size first, as HF's per-patch resize does.
                    byte[] tile = crop(fitted, fit[1], fit[0], x0 - left, y0 - top, tw, th);
                    byte[] resized = PilResample.resize(tile, tw, th, outW, outH, filter);
                    normalize(resized, outW, outH, 0, 0, outW, outH, dst, offset);
                }
                offset += plane;
            }
        }
        return new LlavaOnevisionPixels(dst, n, outH, outW, h, w);
    }

    /**
     * An image of a prompt with several images: padded to a square with the mean colour (bytes
     * {@code int(mean * 255)}), centered, then resized to the patch size. One patch.
     */
    public LlavaOnevisionPixels processOfMany(RgbImage image) {
        int h = image.height();
        int w = image.width();
        int side = Math.max(h, w);
        byte[] square = new byte[side * side * 3];
        double[] mean = config.imageMean();
        for (int p = 0; p < side * side; p++) {
            for (int c = 0; c < 3; c++) {
                square[p * 3 + c] = (byte) (int) (mean[c] * 255);
            }
        }
        int top = w > h ? (side - h) / 2 : 0;
        int left = w > h ? 0 : (side - w) / 2;
        for (int y = 0; y < h; y++) {
            System.arraycopy(image.rgb(), y * w * 3, square, ((y + top) * side + left) * 3, w * 3);
        }
        int outH = config.doResize() ? config.sizeHeight() : side;
        int outW = config.doResize() ? config.sizeWidth() : side;
        byte[] resized = PilResample.resize(square, side, side, outW, outH, filter);
        float[] dst = new float[3 * outH * outW];
        normalize(resized, outW, outH, 0, 0, outW, outH, dst, 0);
        return new LlavaOnevisionPixels(dst, 1, outH, outW, h, w);
    }

    /** The {@code tw x th} region at (x0, y0) of an image, byte 0 outside it (the canvas padding). */
    private static byte[] crop(byte[] rgb, int w, int h, int x0, int y0, int tw, int th) {
        byte[] out = new byte[tw * th * 3];
        for (int y = 0; y < th; y++) {
            int sy = y + y0;
            if (sy < 0 || sy >= h) {
                continue;
            }
            for (int x = 0; x < tw; x++) {
                int sx = x + x0;
                if (sx >= 0 && sx < w) {
                    System.arraycopy(rgb, (sy * w + sx) * 3, out, (y * tw + x) * 3, 3);
                }
            }
        }
        return out;
    }

    /**
     * Writes the {@code tw x th} region at (x0, y0) of an HWC byte image as normalized CHW floats at
     * {@code offset}; positions outside the image are byte 0, as after HF's zero padding.
     */
    private void normalize(byte[] rgb, int w, int h, int x0, int y0, int tw, int th, float[] dst, int offset) {
        int plane = tw * th;
        float[] lut0 = lut[0];
        float[] lut1 = lut[1];
        float[] lut2 = lut[2];
        for (int y = 0; y < th; y++) {
            int sy = y + y0;
            boolean rowInside = sy >= 0 && sy < h;
            int o = offset + y * tw;
            for (int x = 0; x < tw; x++, o++) {
                int sx = x + x0;
                if (rowInside && sx >= 0 && sx < w) {
                    int p = (sy * w + sx) * 3;
                    dst[o] = lut0[rgb[p] & 0xFF];
                    dst[o + plane] = lut1[rgb[p + 1] & 0xFF];
                    dst[o + 2 * plane] = lut2[rgb[p + 2] & 0xFF];
                } else {
                    dst[o] = lut0[0];
                    dst[o + plane] = lut1[0];
                    dst[o + 2 * plane] = lut2[0];
                }
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
