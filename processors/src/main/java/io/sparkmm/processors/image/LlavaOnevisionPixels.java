package io.sparkmm.processors.image;

/**
 * One image after {@link LlavaOnevisionImageProcessor}: {@code pixel_values} of one image as HF lays them
 * out, [numPatches, 3, height, width] flattened (channels first), with the original size that
 * HF returns as {@code image_sizes} (the token count and the model's unpadding need it).
 *
 * @param pixelValues  [numPatches * 3 * height * width]
 * @param numPatches   1 + the number of tiles (AnyRes), or 1 (an image of a multi-image prompt)
 * @param height       patch height
 * @param width        patch width
 * @param imageHeight  original image height
 * @param imageWidth   original image width
 */
public record LlavaOnevisionPixels(float[] pixelValues, int numPatches, int height, int width,
                                   int imageHeight, int imageWidth) {

    public LlavaOnevisionPixels {
        if (pixelValues.length != (long) numPatches * 3 * height * width) {
            throw new IllegalArgumentException("pixel values hold " + pixelValues.length + " floats, expected "
                    + numPatches + " x 3 x " + height + " x " + width);
        }
    }
}
