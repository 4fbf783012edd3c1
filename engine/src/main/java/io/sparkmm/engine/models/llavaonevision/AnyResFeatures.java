package io.sparkmm.engine.models.llavaonevision;

import io.sparkmm.processors.image.LlavaOnevisionTokenCount;

/**
 * LLaVA-OneVision's packing of one image's vision features into the embeddings that replace its
 * placeholder tokens (transformers' {@code LlavaOnevisionModel.pack_image_features}):
 * <ol>
 *   <li>the base patch's {@code side^2} features first, unchanged;</li>
 *   <li>the tiles' features laid out as one grid ({@code side} features a tile side, tiles row-major),
 *       cropped to the rows/columns that show the image (the canvas padding carries none of it);</li>
 *   <li>past about 1.1^2 x {@code anyres_max_N} tiles' worth of features, shrunk bilinearly
 *       (PyTorch's {@code interpolate(mode="bilinear", align_corners=False)});</li>
 *   <li>row by row, each row followed by the image_newline embedding.</li>
 * </ol>
 * An image of a multi-image prompt has one patch: its features, then one newline.
 *
 * <p>The geometry comes from {@link LlavaOnevisionTokenCount}, so the number of rows produced here is by
 * construction the number of placeholder tokens the processor put in the prompt. Heap arrays: this runs
 * once per image on [tokens, d] floats, small next to the tower.
 */
public final class AnyResFeatures {

    private final LlavaOnevisionTokenCount geometry;
    private final int side;
    private final int tileSize;

    /**
     * @param pinpoints     {@code image_grid_pinpoints}, {height, width}
     * @param imageSize     the vision tower's {@code image_size} (the pixel side of one tile)
     * @param patchSize     the vision tower's {@code patch_size}
     * @param maxNumPatches N of {@code vision_aspect_ratio = "anyres_max_N"}
     */
    public AnyResFeatures(int[][] pinpoints, int imageSize, int patchSize, int maxNumPatches) {
        this.side = imageSize / patchSize;
        this.tileSize = imageSize;
        this.geometry = new LlavaOnevisionTokenCount(side * side, maxNumPatches, false, pinpoints, imageSize, imageSize);
    }

    /** Rows {@link #pack} returns for an image alone in its prompt. */
    public int rows(int imageHeight, int imageWidth) {
        return geometry.imageTokens(imageHeight, imageWidth);
    }

    /**
     * @param features   the tower's features for the image's patches, [numPatches, side^2, d] flattened
     *                   (base patch first, then the tiles row-major, as the image processor orders them)
     * @param numPatches 1 for an image of a multi-image prompt, else 1 + the tiles of its pinpoint
     * @param newline    the image_newline embedding [d]
     * @return [rows, d] flattened
     */
    public float[] pack(float[] features, int numPatches, int dim, int imageHeight, int imageWidth, float[] newline) {
        int perPatch = side * side * dim;
        if (features.length != numPatches * perPatch || newline.length != dim) {
            throw new IllegalArgumentException("expected " + numPatches + " x " + side * side + " x " + dim
                    + " features and a newline of " + dim + ", got " + features.length + " and " + newline.length);
        }
        if (numPatches == 1) {
            float[] out = new float[perPatch + dim];
            System.arraycopy(features, 0, out, 0, perPatch);
            System.arraycopy(newline, 0, out, perPatch, dim);
            return out;
        }
        int[] u = geometry.unpadded(imageHeight, imageWidth);
        int tilesPerRow = u[1] / side;
        if (numPatches != 1 + (u[0] / side) * tilesPerRow) {
            throw new IllegalArgumentException("an image of " + imageWidth + "x" + imageHeight + " has "
                    + (1 + (u[0] / side) * tilesPerRow) + " patches at tile size " + tileSize + ", got " + numPatches);
        }
        int rows = u[4];
        int cols = u[5];
        // grid[(r * cols + c) * dim + k]: feature k of the cropped grid cell (r, c), channels last.
        float[] grid = new float[rows * cols * dim];
        for (int r = 0; r < rows; r++) {
            int gr = r + u[2];
            for (int c = 0; c < cols; c++) {
                int gc = c + u[3];
                int patch = 1 + (gr / side) * tilesPerRow + gc / side;
                int token = (gr % side) * side + gc % side;
                System.arraycopy(features, patch * perPatch + token * dim, grid, (r * cols + c) * dim, dim);
            }
        }
        int[] target = geometry.grid(imageHeight, imageWidth);
        if (target[0] != rows || target[1] != cols) {
            grid = bilinear(grid, rows, cols, target[0], target[1], dim);
        }
        float[] out = new float[perPatch + target[0] * (target[1] + 1) * dim];
        System.arraycopy(features, 0, out, 0, perPatch);
        int o = perPatch;
        for (int r = 0; r < target[0]; r++) {
            System.arraycopy(grid, r * target[1] * dim, out, o, target[1] * dim);
            o += target[1] * dim;
            System.arraycopy(newline, 0, out, o, dim);
            o += dim;
        }
        return out;
    }

    /**
     * PyTorch's CPU bilinear resize without corner alignment, in float as it computes for float32
     * tensors: source coordinate {@code (in / out) * (dst + 0.5) - 0.5}, clamped at 0, neighbours
     * clamped at the last row/column.
     */
    static float[] bilinear(float[] src, int inH, int inW, int outH, int outW, int dim) {
        float[] out = new float[outH * outW * dim];
        float scaleH = (float) inH / outH;
        float scaleW = (float) inW / outW;
        for (int y = 0; y < outH; y++) {
            float sy = Math.max(scaleH * (y + 0.5f) - 0.5f, 0f);
            int y0 = Math.min((int) sy, inH - 1);
            int y1 = y0 + (y0 < inH - 1 ? 1 : 0);
            float ly1 = Math.min(Math.max(sy - y0, 0f), 1f);
            float ly0 = 1f - ly1;
            for (int x = 0; x < outW; x++) {
                float sx = Math.max(scaleW * (x + 0.5f) - 0.5f, 0f);
                int x0 = Math.min((int) sx, inW - 1);
                int x1 = x0 + (x0 < inW - 1 ? 1 : 0);
                float lx1 = Math.min(Math.max(sx - x0, 0f), 1f);
                float lx0 = 1f - lx1;
                int o = (y * outW + x) * dim;
                int a = (y0 * inW + x0) * dim;
                int b = (y0 * inW + x1) * dim;
                int c = (y1 * inW + x0) * dim;
                int d = (y1 * inW + x1) * dim;
                for (int k = 0; k < dim; k++) {
                    out[o + k] = ly0 * (lx0 * src[a + k] + lx1 * src[b + k]) + ly1 * (lx0 * src[c + k] + lx1 * src[d + k]);
                }
            }
        }
        return out;
    }
}
