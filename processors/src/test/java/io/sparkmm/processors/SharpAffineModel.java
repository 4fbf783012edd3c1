package io.sparkmm.processors;

import io.sparkmm.processors.media.RgbImage;

/**
 * A float model of how transformers.js 4.3.1 resizes in node: {@code sharp.affine([sx, 0, 0, sy],
 * {interpolator: 'bicubic'})}, i.e. libvips's affine with its bicubic (Catmull-Rom, a = -0.5):
 * <ul>
 *   <li>corner-aligned: output x samples input x / sx (Pillow samples (x + 0.5) / sx - 0.5);</li>
 *   <li>no antialiasing: 4 taps at every scale (Pillow widens the kernel by 1/sx when shrinking);</li>
 *   <li>black outside the image (sharp's default affine background), so an upscale fades to
 *       black over its last ~sx output rows and columns.</li>
 * </ul>
 * Established with numpy on our test images (mean |diff| to transformers.js 0.23/255 on every
 * resized case, where a center-aligned or edge-clamped variant is off by 7..53/255). The small
 * remainder is libvips's fixed-point arithmetic. Test use only: this is not the behaviour we want,
 * it explains the behaviour we are compared with.
 */
final class SharpAffineModel {

    private SharpAffineModel() {
    }

    static RgbImage resize(RgbImage in, int outW, int outH) {
        if (in.width() == outW && in.height() == outH) {
            return in; // transformers.js skips the resize then
        }
        double[][] wx = weights(in.width(), outW);
        double[][] wy = weights(in.height(), outH);
        int[] x0 = starts(in.width(), outW);
        int[] y0 = starts(in.height(), outH);
        byte[] src = in.rgb();
        double[] rows = new double[outH * in.width() * 3]; // vertical pass first
        for (int oy = 0; oy < outH; oy++) {
            for (int k = 0; k < 4; k++) {
                int y = y0[oy] + k;
                if (y < 0 || y >= in.height()) {
                    continue; // black background contributes nothing
                }
                for (int i = 0; i < in.width() * 3; i++) {
                    rows[oy * in.width() * 3 + i] += wy[oy][k] * (src[y * in.width() * 3 + i] & 0xFF);
                }
            }
        }
        byte[] out = new byte[outW * outH * 3];
        for (int oy = 0; oy < outH; oy++) {
            for (int ox = 0; ox < outW; ox++) {
                for (int c = 0; c < 3; c++) {
                    double v = 0;
                    for (int k = 0; k < 4; k++) {
                        int x = x0[ox] + k;
                        if (x >= 0 && x < in.width()) {
                            v += wx[ox][k] * rows[(oy * in.width() + x) * 3 + c];
                        }
                    }
                    out[(oy * outW + ox) * 3 + c] = (byte) Math.max(0, Math.min(255, Math.round(v)));
                }
            }
        }
        return new RgbImage(outW, outH, out);
    }

    /** First of the 4 input taps of each output position: floor(o * in / out) - 1. */
    private static int[] starts(int in, int out) {
        int[] s = new int[out];
        for (int o = 0; o < out; o++) {
            s[o] = (int) Math.floor((double) o * in / out) - 1;
        }
        return s;
    }

    private static double[][] weights(int in, int out) {
        double[][] w = new double[out][4];
        for (int o = 0; o < out; o++) {
            double center = (double) o * in / out;
            int first = (int) Math.floor(center) - 1;
            for (int k = 0; k < 4; k++) {
                w[o][k] = catmullRom(center - (first + k));
            }
        }
        return w;
    }

    private static double catmullRom(double x) {
        double a = -0.5;
        x = Math.abs(x);
        if (x < 1) {
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        }
        return x < 2 ? (((x - 5) * x + 8) * x - 4) * a : 0;
    }
}
