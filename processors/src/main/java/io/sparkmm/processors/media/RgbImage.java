package io.sparkmm.processors.media;

import java.util.Arrays;

/**
 * A decoded image: 8-bit RGB, row-major HWC (3 bytes per pixel: R, G, B), no padding.
 *
 * <p>The array is not copied (images are large and are handed straight to the processors);
 * treat it as immutable. {@link #equals} and {@link #hashCode} compare pixel content, so two
 * decodes of the same file compare equal.
 */
public record RgbImage(int width, int height, byte[] rgb) {

    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (rgb == null) {
            throw new IllegalArgumentException("rgb must not be null");
        }
        long expected = 3L * width * height;
        if (rgb.length != expected) {
            throw new IllegalArgumentException("rgb has " + rgb.length + " bytes, expected " + expected
                    + " for " + width + "x" + height + "x3");
        }
    }

    /** The pixel at (x, y) packed as 0xRRGGBB. */
    public int pixel(int x, int y) {
        if (x < 0 || x >= width || y < 0 || y >= height) {
            throw new IndexOutOfBoundsException("pixel (" + x + ", " + y + ") outside " + width + "x" + height);
        }
        int i = 3 * (y * width + x);
        return (rgb[i] & 0xFF) << 16 | (rgb[i + 1] & 0xFF) << 8 | (rgb[i + 2] & 0xFF);
    }

    /** Channel c (0 = R, 1 = G, 2 = B) at (x, y), 0..255. */
    public int channel(int x, int y, int c) {
        return pixel(x, y) >> (8 * (2 - c)) & 0xFF;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage other && width == other.width && height == other.height
                && Arrays.equals(rgb, other.rgb);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(rgb);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
