package io.sparkmm.processors;

import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Image files in the layouts a pipeline meets (gray PNG, RGBA PNG, JPEG) for the Qwen2-VL
 * transformers.js conformance test and benchmark, written with ImageIO at run time so nothing big
 * is committed, and read back the way production does (bytes through {@link MediaIO}).
 */
public final class Qwen2VlTestImages {

    private Qwen2VlTestImages() {
    }

    /** The production decode: file bytes through MediaIO (OpenCV, alpha on white). */
    public static RgbImage decode(Path file) {
        try {
            return MediaIO.readImage(MediaSource.ofBytes(file.toString(), Files.readAllBytes(file)),
                    MediaLimits.defaults());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** 8-bit gray PNG of the image's luma (ITU-R 601 weights, as PIL's convert("L")). */
    public static void writeGrayPng(RgbImage image, Path file) {
        BufferedImage img = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_BYTE_GRAY);
        var raster = img.getRaster();
        byte[] rgb = image.rgb();
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                int p = (y * image.width() + x) * 3;
                int l = ((rgb[p] & 0xFF) * 299 + (rgb[p + 1] & 0xFF) * 587 + (rgb[p + 2] & 0xFF) * 114 + 500) / 1000;
                raster.setSample(x, y, 0, l);
            }
        }
        write(img, "png", file);
    }

    /**
     * Non-premultiplied 8-bit RGBA PNG. {@code alpha.at(x, y)} gives each pixel's alpha; with
     * {@code whiteWhereTransparent} every pixel that is not opaque is stored as white, so dropping
     * alpha (transformers.js) and compositing onto white (HF Python, us) give the same RGB.
     */
    public static void writeRgbaPng(RgbImage image, Alpha alpha, boolean whiteWhereTransparent, Path file) {
        BufferedImage img = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_4BYTE_ABGR);
        var raster = img.getRaster();
        byte[] rgb = image.rgb();
        int[] px = new int[4];
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                int p = (y * image.width() + x) * 3;
                px[3] = alpha.at(x, y);
                boolean white = whiteWhereTransparent && px[3] < 255;
                for (int c = 0; c < 3; c++) {
                    px[c] = white ? 255 : rgb[p + c] & 0xFF;
                }
                raster.setPixel(x, y, px);
            }
        }
        write(img, "png", file);
    }

    /** The RGB samples of an RGBA PNG with alpha ignored (what transformers.js's rgb() keeps). */
    public static RgbImage readRgbDroppingAlpha(Path file) {
        return TestMedia.readPng(file); // reads raw bands 0..2, no colour conversion, alpha unused
    }

    /** Baseline JPEG at the given quality (0..1), 4:2:0 chroma as ImageIO writes by default. */
    public static void writeJpeg(RgbImage image, float quality, Path file) {
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
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        ImageWriter writer = writers.next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(quality);
        try {
            Files.deleteIfExists(file);
            try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(img, null, null), param);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
    }

    /** Alpha of pixel (x, y), 0..255. */
    @FunctionalInterface
    public interface Alpha {
        int at(int x, int y);
    }

    private static void write(BufferedImage img, String format, Path file) {
        try {
            if (!ImageIO.write(img, format, file.toFile())) {
                throw new IllegalStateException("no " + format + " writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
