package io.sparkmm.processors.media;

/**
 * A decoded image: 8-bit RGB, interleaved.
 *
 * @param width  pixels per row, > 0
 * @param height rows, > 0
 * @param rgb    HWC bytes [height, width, 3] (unsigned, R then G then B)
 */
public record RgbImage(int width, int height, byte[] rgb) {

    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (rgb == null || rgb.length != (long) width * height * 3) {
            throw new IllegalArgumentException("rgb must hold width * height * 3 = " + (long) width * height * 3
                    + " bytes, got " + (rgb == null ? "null" : rgb.length));
        }
    }
}
