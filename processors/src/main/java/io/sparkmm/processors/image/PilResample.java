package io.sparkmm.processors.image;

import io.sparkmm.processors.ConfigReader;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Image resizing with the semantics of Pillow's {@code Image.resize} on 8-bit RGB (its
 * {@code ImagingResample}), which is what Hugging Face's Python image processors call.
 *
 * <p>Pillow resamples separably (a horizontal pass, then a vertical one) with a convolution whose
 * support widens by the downscale factor, so a downscale is antialiased. Each output pixel's
 * weights are normalized to sum to 1, then turned into 22-bit fixed point; sums are rounded
 * (half a unit added) and clipped to uint8 after EACH pass. Matching those integer steps is what
 * makes the result equal to Pillow's byte for byte rather than "close".
 *
 * <p>Thread-safe: coefficient tables are immutable and shared through a small cache; each call
 * allocates only its two intermediate images.
 */
public final class PilResample {

    /** Pillow's resampling filters that we support, with their PIL enum values and supports. */
    public enum Filter {
        BILINEAR(2, 1.0),
        BICUBIC(3, 2.0);

        final int pilValue;
        final double support;

        Filter(int pilValue, double support) {
            this.pilValue = pilValue;
            this.support = support;
        }

        /** The filter for a {@code resample} value of a preprocessor config (PIL numbering). */
        public static Filter fromPil(int value) {
            for (Filter f : values()) {
                if (f.pilValue == value) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unsupported resample " + value
                    + " (supported: 2 = bilinear, 3 = bicubic)");
        }

        /** A config's {@code resample} value (PIL numbering, bicubic when absent), checked; errors name the file and key. */
        public static int read(ConfigReader r) {
            int resample = r.integer("resample", BICUBIC.pilValue);
            try {
                fromPil(resample);
            } catch (IllegalArgumentException e) {
                throw r.error("resample", e.getMessage());
            }
            return resample;
        }

        double weight(double x) {
            double ax = Math.abs(x);
            if (this == BILINEAR) {
                return ax < 1.0 ? 1.0 - ax : 0.0;
            }
            // Keys' cubic convolution with a = -0.5, as in Pillow.
            final double a = -0.5;
            if (ax < 1.0) {
                return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1.0;
            }
            if (ax < 2.0) {
                return (((ax - 5.0) * ax + 8.0) * ax - 4.0) * a;
            }
            return 0.0;
        }
    }

    /** Fixed-point bits of a weight: 8 bits of pixel and 2 bits of headroom left in an int. */
    static final int PRECISION_BITS = 32 - 8 - 2;

    private static final int CACHE_LIMIT = 512;
    private static final ConcurrentHashMap<Key, Coefficients> CACHE = new ConcurrentHashMap<>();

    private record Key(int inSize, int outSize, Filter filter) {
    }

    /**
     * The weights of one axis.
     *
     * @param start   first input index of each output pixel's window [outSize]
     * @param count   window length of each output pixel [outSize]
     * @param ksize   stride between the windows in {@code weights}
     * @param weights normalized weights [outSize, ksize], as doubles (Pillow's pre-rounding values)
     * @param fixed   the same weights in {@link #PRECISION_BITS}-bit fixed point [outSize, ksize]
     */
    record Coefficients(int[] start, int[] count, int ksize, double[] weights, int[] fixed) {
    }

    private PilResample() {
    }

    /** The (cached) weights to resample an axis of {@code inSize} pixels to {@code outSize}. */
    static Coefficients coefficients(int inSize, int outSize, Filter filter) {
        Key key = new Key(inSize, outSize, filter);
        Coefficients c = CACHE.get(key);
        if (c == null) {
            if (CACHE.size() >= CACHE_LIMIT) {
                CACHE.clear(); // image sizes in a batch repeat; a crude bound is enough
            }
            c = CACHE.computeIfAbsent(key, k -> compute(k.inSize, k.outSize, k.filter));
        }
        return c;
    }

    private static Coefficients compute(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        // Upscaling interpolates with the plain kernel; downscaling stretches it (antialiasing).
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] start = new int[outSize];
        int[] count = new int[outSize];
        double[] weights = new double[outSize * ksize];
        int[] fixed = new int[outSize * ksize];
        double inverseScale = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            // Pillow rounds the window ends with a C cast (truncation) of value + 0.5, then clamps.
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double sum = 0.0;
            int base = xx * ksize;
            for (int x = 0; x < xmax; x++) {
                double w = filter.weight((x + xmin - center + 0.5) * inverseScale);
                weights[base + x] = w;
                sum += w;
            }
            for (int x = 0; x < xmax; x++) {
                if (sum != 0.0) {
                    weights[base + x] /= sum;
                }
                double scaled = weights[base + x] * (1 << PRECISION_BITS);
                // Round half away from zero, as Pillow's normalize_coeffs_8bpc does.
                fixed[base + x] = (int) (scaled < 0 ? scaled - 0.5 : scaled + 0.5);
            }
            start[xx] = xmin;
            count[xx] = xmax;
        }
        return new Coefficients(start, count, ksize, weights, fixed);
    }

    /** A fixed-point sum (with its rounding half-unit already added) back to a clipped byte value. */
    static int clip8(int sum) {
        int v = sum >> PRECISION_BITS;
        return v < 0 ? 0 : (v > 255 ? 255 : v);
    }

    /**
     * Resizes an 8-bit interleaved RGB image.
     *
     * @param rgb HWC bytes [inH, inW, 3]
     * @return HWC bytes [outH, outW, 3]
     */
    public static byte[] resize(byte[] rgb, int inW, int inH, int outW, int outH, Filter filter) {
        if (outW <= 0 || outH <= 0) {
            throw new IllegalArgumentException("output size must be positive, got " + outW + "x" + outH);
        }
        boolean horizontal = outW != inW;
        boolean vertical = outH != inH;
        if (!horizontal && !vertical) {
            return rgb.clone();
        }
        Coefficients ver = coefficients(inH, outH, filter);
        // Only the rows the vertical pass will read need the horizontal pass (as in Pillow).
        int firstRow = ver.start()[0];
        int lastRow = ver.start()[outH - 1] + ver.count()[outH - 1];
        byte[] src = rgb;
        int rowOffset = 0;
        if (horizontal) {
            src = horizontalPass(rgb, inW, firstRow, lastRow, outW, coefficients(inW, outW, filter));
            rowOffset = firstRow;
        }
        if (!vertical) {
            return src;
        }
        return verticalPass(src, outW, rowOffset, outH, ver);
    }

    /** Rows [firstRow, lastRow) of the input, resampled to outW columns: HWC [lastRow - firstRow, outW, 3]. */
    private static byte[] horizontalPass(byte[] in, int inW, int firstRow, int lastRow, int outW, Coefficients c) {
        int rows = lastRow - firstRow;
        byte[] out = new byte[rows * outW * 3];
        int[] start = c.start();
        int[] count = c.count();
        int[] k = c.fixed();
        int ksize = c.ksize();
        int half = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < rows; y++) {
            int inRow = (y + firstRow) * inW * 3;
            int outRow = y * outW * 3;
            for (int xx = 0; xx < outW; xx++) {
                int s0 = half;
                int s1 = half;
                int s2 = half;
                int p = inRow + start[xx] * 3;
                int kb = xx * ksize;
                for (int x = 0, n = count[xx]; x < n; x++, p += 3) {
                    int w = k[kb + x];
                    s0 += (in[p] & 0xFF) * w;
                    s1 += (in[p + 1] & 0xFF) * w;
                    s2 += (in[p + 2] & 0xFF) * w;
                }
                int o = outRow + xx * 3;
                out[o] = (byte) clip8(s0);
                out[o + 1] = (byte) clip8(s1);
                out[o + 2] = (byte) clip8(s2);
            }
        }
        return out;
    }

    /**
     * The vertical pass over {@code in} (HWC, width w, its row 0 being source row {@code rowOffset}):
     * HWC [outH, w, 3]. Accumulates whole rows so that memory is read sequentially.
     */
    private static byte[] verticalPass(byte[] in, int w, int rowOffset, int outH, Coefficients c) {
        int rowLen = w * 3;
        byte[] out = new byte[outH * rowLen];
        int[] acc = new int[rowLen];
        int[] start = c.start();
        int[] count = c.count();
        int[] k = c.fixed();
        int ksize = c.ksize();
        int half = 1 << (PRECISION_BITS - 1);
        for (int yy = 0; yy < outH; yy++) {
            java.util.Arrays.fill(acc, half);
            int kb = yy * ksize;
            for (int y = 0, n = count[yy]; y < n; y++) {
                int weight = k[kb + y];
                int row = (start[yy] + y - rowOffset) * rowLen;
                for (int i = 0; i < rowLen; i++) {
                    acc[i] += (in[row + i] & 0xFF) * weight;
                }
            }
            int o = yy * rowLen;
            for (int i = 0; i < rowLen; i++) {
                out[o + i] = (byte) clip8(acc[i]);
            }
        }
        return out;
    }
}
