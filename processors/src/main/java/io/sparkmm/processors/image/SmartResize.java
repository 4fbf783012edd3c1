package io.sparkmm.processors.image;

/**
 * Qwen2-VL's {@code smart_resize} (transformers' qwen2_vl image processors): the size an image is
 * resized to before patchifying. Both sides become multiples of {@code factor} (patch_size *
 * merge_size, so the patch grid merges evenly), the pixel count lands in [minPixels, maxPixels],
 * and the aspect ratio is kept as far as that allows.
 *
 * <p>Numerically identical to the Python: Python's {@code round} is round-half-even, which is
 * {@link Math#rint}; {@code int / int} is a correctly rounded double division, which is what Java
 * computes once both ints are exact doubles (they are, below 2^53); the floor (too many pixels) and
 * ceil (too few) branches are taken in the same order with the same operation order.
 */
public final class SmartResize {

    /** Largest ratio of long to short side HF accepts; beyond it the vision tower's grid is degenerate. */
    public static final double MAX_ASPECT_RATIO = 200;

    private SmartResize() {
    }

    /**
     * @param height    input height, positive
     * @param width     input width, positive
     * @param factor    patch_size * merge_size (28 for Qwen2-VL), positive
     * @param minPixels lower bound on the output pixel count (HF's size.shortest_edge)
     * @param maxPixels upper bound on the output pixel count (HF's size.longest_edge)
     * @return {resizedHeight, resizedWidth}, both multiples of {@code factor}
     * @throws IllegalArgumentException for non-positive sizes, or an aspect ratio over 200, with
     *         HF's message ({@code "absolute aspect ratio must be smaller than 200, got ..."})
     */
    public static int[] resize(int height, int width, int factor, long minPixels, long maxPixels) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image size must be positive, got height " + height + ", width " + width);
        }
        if (factor <= 0) {
            throw new IllegalArgumentException("factor must be positive, got " + factor);
        }
        double ratio = (double) Math.max(height, width) / Math.min(height, width);
        if (ratio > MAX_ASPECT_RATIO) {
            throw new IllegalArgumentException("absolute aspect ratio must be smaller than 200, got " + ratio);
        }
        long hBar = (long) Math.rint((double) height / factor) * factor;
        long wBar = (long) Math.rint((double) width / factor) * factor;
        long pixels = (long) height * width;
        if (hBar * wBar > maxPixels) {
            double beta = Math.sqrt((double) pixels / maxPixels);
            hBar = Math.max(factor, (long) Math.floor(height / beta / factor) * factor);
            wBar = Math.max(factor, (long) Math.floor(width / beta / factor) * factor);
        } else if (hBar * wBar < minPixels) {
            double beta = Math.sqrt((double) minPixels / pixels);
            hBar = (long) Math.ceil(height * beta / factor) * factor;
            wBar = (long) Math.ceil(width * beta / factor) * factor;
        }
        if (hBar > Integer.MAX_VALUE || wBar > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("resized size " + hBar + "x" + wBar + " overflows an int (height "
                    + height + ", width " + width + ", min_pixels " + minPixels + ")");
        }
        return new int[] {(int) hBar, (int) wBar};
    }
}
