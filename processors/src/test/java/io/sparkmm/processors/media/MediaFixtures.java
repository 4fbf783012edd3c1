package io.sparkmm.processors.media;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import org.junit.jupiter.api.BeforeAll;

/**
 * Test media, generated once per JVM into target/test-media: the ffmpeg-made files from
 * src/test/scripts/make_media.sh (fails loudly when the ffmpeg CLI is missing: CI must install
 * the Debian package 'ffmpeg'), plus images written here with javax.imageio as an independent
 * encoder with exactly known pixels.
 */
abstract class MediaFixtures {

    static final Path ROOT = Path.of("target", "test-media").toAbsolutePath();
    private static boolean ready;

    @BeforeAll
    static void generateMedia() throws Exception {
        synchronized (MediaFixtures.class) {
            if (!ready) {
                runScript();
                writeJavaImages();
                ready = true;
            }
        }
    }

    static Path good(String name) {
        return ROOT.resolve("good").resolve(name);
    }

    static Path bad(String name) {
        return ROOT.resolve("bad").resolve(name);
    }

    static MediaSource src(Path p) {
        return MediaSource.ofPath(p.toString());
    }

    private static void runScript() throws Exception {
        Path script = Path.of("src", "test", "scripts", "make_media.sh").toAbsolutePath();
        Process p;
        try {
            p = new ProcessBuilder("bash", script.toString(), ROOT.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script + " (needs bash and the ffmpeg CLI)", e);
        }
        byte[] log = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(script + " timed out");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(script + " failed (exit " + p.exitValue()
                    + "); it needs the ffmpeg CLI with libx264, libvpx, libmp3lame, libvorbis, libopus, libwebp"
                    + " (Debian package 'ffmpeg'):\n" + new String(log, StandardCharsets.UTF_8));
        }
    }

    // ---- images written from Java -------------------------------------------------------------

    /** RGBA gradient: r = 4x, g = 4y, b = 77, a = 4(x+y) mod 256, 64x64. */
    static int[] rgbaGradientPixel(int x, int y) {
        return new int[] {(4 * x) & 255, (4 * y) & 255, 77, (4 * (x + y)) & 255};
    }

    private static void writeJavaImages() throws IOException {
        Path g = ROOT.resolve("good");
        BufferedImage rgba = new BufferedImage(64, 64, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int[] p = rgbaGradientPixel(x, y);
                rgba.setRGB(x, y, p[3] << 24 | p[0] << 16 | p[1] << 8 | p[2]);
            }
        }
        write(rgba, "png", g.resolve("java_rgba_gradient.png"));

        BufferedImage gray = new BufferedImage(256, 2, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster gr = gray.getRaster();
        for (int x = 0; x < 256; x++) {
            gr.setSample(x, 0, 0, x);
            gr.setSample(x, 1, 0, 255 - x);
        }
        write(gray, "png", g.resolve("java_gray_ramp.png"));

        BufferedImage gray16 = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
        int[] v16 = {0, 0x1234, 0x80FF, 0xFFFF};
        for (int x = 0; x < 4; x++) {
            gray16.getRaster().setSample(x, 0, 0, v16[x]);
        }
        write(gray16, "png", g.resolve("java_gray16.png"));

        // 2-bit palette with one half-transparent and one fully transparent entry
        byte[] r = {(byte) 255, 0, 0, 10};
        byte[] gg = {0, (byte) 255, 0, 20};
        byte[] b = {0, 0, (byte) 255, 30};
        byte[] a = {(byte) 255, (byte) 255, (byte) 128, 0};
        BufferedImage pal = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_BINARY,
                new IndexColorModel(2, 4, r, gg, b, a));
        for (int x = 0; x < 4; x++) {
            pal.getRaster().setSample(x, 0, 0, x);
        }
        write(pal, "png", g.resolve("java_palette_trns.png"));

        writeCmykJpeg(g.resolve("java_cmyk.jpg"));
        writeBombPng(ROOT.resolve("bad").resolve("bomb_30000.png"), 30000, 30000);
    }

    private static void write(BufferedImage img, String fmt, Path p) throws IOException {
        if (!ImageIO.write(img, fmt, p.toFile())) {
            throw new IOException("no ImageIO writer for " + fmt);
        }
    }

    /**
     * A 4-channel JPEG written as a raw raster (ImageIO then marks it Adobe CMYK, no transform).
     * Adobe CMYK JPEGs store inverted ink values, which decoders (libjpeg users, PIL) undo; we store
     * C'=200, M'=100, Y'=50, K'=255 so the expected RGB is about (200, 100, 50).
     */
    static final int[] CMYK_EXPECTED_RGB = {200, 100, 50};

    private static void writeCmykJpeg(Path p) throws IOException {
        WritableRaster ras = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, 32, 32, 4, null);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                ras.setPixel(x, y, new int[] {200, 100, 50, 255});
            }
        }
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (var out = ImageIO.createImageOutputStream(p.toFile())) {
            w.setOutput(out);
            var param = w.getDefaultWriteParam();
            param.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.95f);
            w.write(null, new IIOImage(ras, null, null), param);
        } finally {
            w.dispose();
        }
    }

    /** A 1-bit gray PNG of w x h black pixels: a few hundred KB on disk, w*h pixels decoded. */
    static void writeBombPng(Path p, int w, int h) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (OutputStream z = new DeflaterOutputStream(idat, new Deflater(9))) {
            byte[] row = new byte[1 + (w + 7) / 8];   // filter byte 0 + packed bits, all zero
            for (int y = 0; y < h; y++) {
                z.write(row);
            }
        }
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(p))) {
            out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
            ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(ihdr);
            d.writeInt(w);
            d.writeInt(h);
            d.write(new byte[] {1, 0, 0, 0, 0});   // bit depth 1, gray, deflate, no filter, no interlace
            chunk(out, "IHDR", ihdr.toByteArray());
            chunk(out, "IDAT", idat.toByteArray());
            chunk(out, "IEND", new byte[0]);
        }
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(data.length);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }
}
