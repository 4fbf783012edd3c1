package io.sparkmm.processors.image;

/**
 * LLaVA-NeXT / LLaVA-OneVision "AnyRes" geometry: which grid pinpoint (a canvas of whole tiles) an
 * image goes to, and the aspect-preserving size it is resized to inside that canvas before padding.
 * All sizes are {height, width}, as in the {@code image_grid_pinpoints} of a preprocessor config.
 *
 * <p>The arithmetic reproduces Python's float semantics step by step (true division of ints,
 * {@code int()} truncation, {@code math.ceil}) because a one-pixel difference changes the number of
 * tiles or the padding and with it every pixel value and the token count.
 */
public final class AnyResGrid {

    private AnyResGrid() {
    }

    /**
     * The pinpoint that keeps the most of the image's pixels after fitting it inside, ties broken by the
     * least wasted canvas area; the first such pinpoint wins (HF's {@code select_best_resolution}).
     *
     * @param pinpoints {height, width} pairs, in the config's order
     * @return {height, width} of the chosen pinpoint
     */
    public static int[] selectBestResolution(int height, int width, int[][] pinpoints) {
        if (pinpoints.length == 0) {
            throw new IllegalArgumentException("image_grid_pinpoints is empty");
        }
        int[] best = null;
        long maxEffective = 0;
        double minWasted = Double.POSITIVE_INFINITY;
        for (int[] p : pinpoints) {
            double scale = Math.min((double) p[1] / width, (double) p[0] / height);
            // Python's int(float) truncates toward zero; both values are non-negative here.
            long downW = (long) (width * scale);
            long downH = (long) (height * scale);
            long effective = Math.min(downW * downH, (long) width * height);
            long wasted = (long) p[0] * p[1] - effective;
            // A very thin image can have effective 0 everywhere; the first pinpoint then wins
            // through the "less waste" branch against the initial infinity, as in HF.
            if (effective > maxEffective || (effective == maxEffective && wasted < minWasted)) {
                maxEffective = effective;
                minWasted = wasted;
                best = p;
            }
        }
        return new int[] {best[0], best[1]};
    }

    /**
     * The size an image of {@code height x width} is resized to inside a {@code target} canvas: the side
     * with the smaller scale fills the canvas, the other is {@code ceil(side * scale)} capped at the
     * canvas (HF's {@code get_patch_output_size}).
     *
     * @return {height, width}
     */
    public static int[] patchOutputSize(int height, int width, int targetHeight, int targetWidth) {
        double scaleW = (double) targetWidth / width;
        double scaleH = (double) targetHeight / height;
        if (scaleW < scaleH) {
            return new int[] {(int) Math.min(Math.ceil(height * scaleW), targetHeight), targetWidth};
        }
        return new int[] {targetHeight, (int) Math.min(Math.ceil(width * scaleH), targetWidth)};
    }
}
