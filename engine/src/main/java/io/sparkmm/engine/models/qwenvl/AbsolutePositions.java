package io.sparkmm.engine.models.qwenvl;

/**
 * visual.py's {@code get_abs_pos}: a square table of learned or sin-cos positions ([s*s, C], row
 * y*s + x) resized to another grid with {@code F.interpolate(mode="bicubic", align_corners=False)}
 * when the sizes differ. Qwen-VL keeps 16 x 16 positions for a 32 x 32 patch grid, so both the
 * ViT's and the resampler's key positions go through this. Pure: runs once when a model loads.
 */
final class AbsolutePositions {

    /** PyTorch's cubic convolution constant. */
    private static final double A = -0.75;

    private AbsolutePositions() {
    }

    /**
     * [target*target, channels] from table [source*source, channels]; the table itself when the
     * sizes match. {@code name} (the tensor) is for the error when the table is not square.
     */
    static float[] resize(float[] table, int channels, int target, String name) {
        int source = (int) Math.round(Math.sqrt(table.length / (double) channels));
        if (source * source * channels != table.length) {
            throw new IllegalArgumentException("position table " + name + " has " + table.length / channels
                    + " rows, not a square number (visual.py resizes it as a square grid)");
        }
        if (source == target) {
            return table.clone();
        }
        int[][] index = new int[target][4];
        double[][] weight = new double[target][4];
        double scale = (double) source / target;
        for (int o = 0; o < target; o++) {
            // area_pixel_compute_source_index for cubic: no clamping of the real coordinate
            double real = scale * (o + 0.5) - 0.5;
            int floor = (int) Math.floor(real);
            double t = real - floor;
            weight[o] = new double[] {far(t + 1), near(t), near(1 - t), far(2 - t)};
            for (int k = 0; k < 4; k++) {
                index[o][k] = Math.min(Math.max(floor - 1 + k, 0), source - 1);
            }
        }
        float[] out = new float[target * target * channels];
        for (int oy = 0; oy < target; oy++) {
            for (int ox = 0; ox < target; ox++) {
                int row = (oy * target + ox) * channels;
                for (int c = 0; c < channels; c++) {
                    double sum = 0;
                    for (int ky = 0; ky < 4; ky++) {
                        double line = 0;
                        int base = index[oy][ky] * source;
                        for (int kx = 0; kx < 4; kx++) {
                            line += weight[ox][kx] * table[(base + index[ox][kx]) * channels + c];
                        }
                        sum += weight[oy][ky] * line;
                    }
                    out[row + c] = (float) sum;
                }
            }
        }
        return out;
    }

    /** Weight of a neighbour at distance |x| <= 1. */
    private static double near(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    /** Weight of a neighbour at distance 1 < |x| < 2. */
    private static double far(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    /**
     * The resampler's fixed 2-D sin-cos table ([grid*grid, dim], MAE's get_2d_sincos_pos_embed as
     * Qwen-VL's Resampler builds it): the first half of each row encodes the column (x), the
     * second the row (y); each half is sin then cos of pos / 10000^(2i/half), in float32 as numpy
     * computes it. Qwen-VL stores it in the checkpoint ({@code attn_pool.pos_embed}); the tiny
     * checkpoint writer uses this.
     */
    static float[] sinCos2d(int dim, int grid) {
        int half = dim / 2;
        int quarter = half / 2;
        float[] omega = new float[quarter];
        for (int i = 0; i < quarter; i++) {
            omega[i] = (float) (1.0 / Math.pow(10000, (float) i / (half / 2.0f)));
        }
        float[] out = new float[grid * grid * dim];
        for (int y = 0; y < grid; y++) {
            for (int x = 0; x < grid; x++) {
                int row = (y * grid + x) * dim;
                for (int i = 0; i < quarter; i++) {
                    float ax = x * omega[i];
                    float ay = y * omega[i];
                    out[row + i] = (float) Math.sin(ax);
                    out[row + quarter + i] = (float) Math.cos(ax);
                    out[row + half + i] = (float) Math.sin(ay);
                    out[row + half + quarter + i] = (float) Math.cos(ay);
                }
            }
        }
        return out;
    }
}
