package io.sparkmm.processors;

import io.sparkmm.processors.media.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;

/** Test inputs: synthetic images and audio, PNG and raw float32 files (read and written exactly). */
public final class TestMedia {

    private TestMedia() {
    }

    /**
     * Smooth gradients, hard edges (a bar, a disc, a fine checkerboard) and Gaussian noise: the
     * content on which resampling filters differ most.
     */
    public static RgbImage syntheticImage(int width, int height, long seed) {
        Random random = new Random(seed);
        byte[] rgb = new byte[width * height * 3];
        double cx = width * 0.6;
        double cy = height * 0.4;
        double radius = Math.min(width, height) * 0.25;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double r = 255.0 * x / Math.max(width - 1, 1);
                double g = 255.0 * y / Math.max(height - 1, 1);
                double b = 128 + 100 * Math.sin(x * 0.05) * Math.cos(y * 0.07);
                if (y >= height / 3 && y < height / 2) {
                    r = 250;
                    g = 10;
                }
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < radius * radius) {
                    r = 20;
                    g = 220;
                    b = 30;
                }
                if (x < width / 5 && y > height * 3 / 4 && ((x / 2 + y / 2) & 1) == 0) {
                    r = g = b = 255; // checkerboard of 2-pixel cells: pure aliasing bait
                }
                int p = (y * width + x) * 3;
                rgb[p] = clip(r + random.nextGaussian() * 12);
                rgb[p + 1] = clip(g + random.nextGaussian() * 12);
                rgb[p + 2] = clip(b + random.nextGaussian() * 12);
            }
        }
        return new RgbImage(width, height, rgb);
    }

    private static byte clip(double v) {
        return (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
    }

    /** Mixed sines (a chord that glides) plus white noise, at {@code rate} Hz. */
    public static float[] syntheticAudio(double seconds, int rate, long seed) {
        Random random = new Random(seed);
        int n = (int) Math.round(seconds * rate);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double t = (double) i / rate;
            double v = 0.3 * Math.sin(2 * Math.PI * 220 * t)
                    + 0.2 * Math.sin(2 * Math.PI * (440 + 50 * t) * t)
                    + 0.1 * Math.sin(2 * Math.PI * 3100 * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 0.7 * t))
                    + 0.05 * random.nextGaussian();
            out[i] = (float) v;
        }
        return out;
    }

    public static RgbImage readPng(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (img == null) {
            throw new IllegalArgumentException("not an image: " + file);
        }
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] rgb = new byte[w * h * 3];
        var raster = img.getRaster();
        if (raster.getNumBands() < 3) {
            throw new IllegalArgumentException(file + ": expected RGB, got " + raster.getNumBands() + " bands");
        }
        int[] px = new int[raster.getNumBands()];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                raster.getPixel(x, y, px); // raw samples: no color conversion
                int p = (y * w + x) * 3;
                rgb[p] = (byte) px[0];
                rgb[p + 1] = (byte) px[1];
                rgb[p + 2] = (byte) px[2];
            }
        }
        return new RgbImage(w, h, rgb);
    }

    public static void writePng(RgbImage image, Path file) {
        BufferedImage img = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_3BYTE_BGR);
        var raster = img.getRaster();
        byte[] rgb = image.rgb();
        int[] px = new int[3];
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                int p = (y * image.width() + x) * 3;
                px[0] = rgb[p] & 0xFF;
                px[1] = rgb[p + 1] & 0xFF;
                px[2] = rgb[p + 2] & 0xFF;
                raster.setPixel(x, y, px);
            }
        }
        try {
            if (!ImageIO.write(img, "png", file.toFile())) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static float[] readFloats(Path file) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[b.remaining() / 4];
            b.asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void writeFloats(float[] data, Path file) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        try {
            Files.write(file, b.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
