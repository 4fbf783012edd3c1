package io.sparkmm.processors.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class ImageDecodeTest extends MediaFixtures {

    private static final MediaLimits L = MediaLimits.defaults();

    private static RgbImage read(String good) {
        return MediaIO.readImage(src(good(good)), L);
    }

    private static void assertSolid(RgbImage img, int r, int g, int b, int tol) {
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                int p = img.pixel(x, y);
                assertThat(new int[] {p >> 16 & 255, p >> 8 & 255, p & 255})
                        .as("pixel (%d,%d)", x, y)
                        .satisfies(c -> {
                            assertThat(Math.abs(c[0] - r)).isLessThanOrEqualTo(tol);
                            assertThat(Math.abs(c[1] - g)).isLessThanOrEqualTo(tol);
                            assertThat(Math.abs(c[2] - b)).isLessThanOrEqualTo(tol);
                        });
            }
        }
    }

    private static double meanAbsDiff(RgbImage a, RgbImage b) {
        assertThat(b.width()).isEqualTo(a.width());
        assertThat(b.height()).isEqualTo(a.height());
        long sum = 0;
        for (int i = 0; i < a.rgb().length; i++) {
            sum += Math.abs((a.rgb()[i] & 255) - (b.rgb()[i] & 255));
        }
        return sum / (double) a.rgb().length;
    }

    @Test
    void solidPngIsExactAndJpegClose() {
        RgbImage png = read("solid_512.png");
        assertThat(png.width()).isEqualTo(512);
        assertThat(png.height()).isEqualTo(512);
        assertSolid(png, 51, 102, 204, 0);
        RgbImage jpg = read("solid_512.jpg");
        assertThat(jpg.width()).isEqualTo(512);
        assertSolid(jpg, 51, 102, 204, 3);
    }

    @Test
    void losslessFormatsDecodeToTheSamePixels() {
        RgbImage png = read("pattern.png");
        assertThat(png.width()).isEqualTo(160);
        assertThat(png.height()).isEqualTo(120);
        assertThat(png).isEqualTo(imageIoRgb(good("pattern.png")));   // independent decoder
        assertThat(read("pattern.webp")).isEqualTo(png);
        assertThat(read("pattern.bmp")).isEqualTo(png);
        assertThat(meanAbsDiff(png, read("pattern.jpg"))).isLessThan(3.0);
        // lossy WebP subsamples chroma: the sharp colour edges of the pattern cost several levels
        assertThat(meanAbsDiff(png, read("pattern_lossy.webp"))).isLessThan(10.0);
    }

    @Test
    void alphaIsCompositedOnWhite() {
        // (255, 0, 0, 128): 0*128 + 255*127 = 32385, /255 = 127 exactly
        assertSolid(read("red_alpha128.png"), 255, 127, 127, 0);
        RgbImage img = read("java_rgba_gradient.png");
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int[] p = rgbaGradientPixel(x, y);
                for (int c = 0; c < 3; c++) {
                    long expected = Math.round((p[c] * p[3] + 255.0 * (255 - p[3])) / 255.0);
                    assertThat(img.channel(x, y, c)).as("(%d,%d) channel %d", x, y, c).isEqualTo((int) expected);
                }
            }
        }
    }

    @Test
    void onWhiteRoundingMatchesExactRoundingEverywhere() {
        for (int a = 0; a < 256; a++) {
            for (int c = 0; c < 256; c++) {
                long exact = Math.round((c * a + 255.0 * (255 - a)) / 255.0);
                assertThat(ImageDecoder.onWhite(c, a)).isEqualTo((int) exact);
            }
        }
        assertThat(ImageDecoder.onWhite(0, 128)).isEqualTo(127);
        assertThat(ImageDecoder.onWhite(77, 0)).isEqualTo(255);
        assertThat(ImageDecoder.onWhite(77, 255)).isEqualTo(77);
    }

    @Test
    void grayAndPaletteBecomeRgb() {
        // ffmpeg's RGB->gray conversion lands near 100; javax.imageio is the independent decoder
        int g100 = imageIoGray(good("gray100.png"));
        assertThat(g100).isCloseTo(100, within(3));
        assertSolid(read("gray100.png"), g100, g100, g100, 0);
        // ffmpeg's palette for "green" is near (0, 255, 0); javax.imageio decodes it independently
        RgbImage pal8 = read("palette_green.png");
        assertThat(pal8).isEqualTo(imageIoRgb(good("palette_green.png")));
        assertSolid(pal8, 0, 255, 0, 4);
        RgbImage ramp = read("java_gray_ramp.png");
        for (int x = 0; x < 256; x++) {
            assertThat(ramp.pixel(x, 0)).isEqualTo(x << 16 | x << 8 | x);
            int v = 255 - x;
            assertThat(ramp.pixel(x, 1)).isEqualTo(v << 16 | v << 8 | v);
        }
        // palette with alpha: opaque red, opaque green, blue at 128 on white, fully transparent -> white
        RgbImage pal = read("java_palette_trns.png");
        assertThat(pal.pixel(0, 0)).isEqualTo(0xFF0000);
        assertThat(pal.pixel(1, 0)).isEqualTo(0x00FF00);
        assertThat(pal.pixel(2, 0)).isEqualTo(127 << 16 | 127 << 8 | 255);
        assertThat(pal.pixel(3, 0)).isEqualTo(0xFFFFFF);
    }

    /** An opaque image decoded by javax.imageio, as RgbImage. */
    private static RgbImage imageIoRgb(java.nio.file.Path p) {
        try {
            java.awt.image.BufferedImage bi = javax.imageio.ImageIO.read(p.toFile());
            byte[] rgb = new byte[3 * bi.getWidth() * bi.getHeight()];
            for (int y = 0, i = 0; y < bi.getHeight(); y++) {
                for (int x = 0; x < bi.getWidth(); x++) {
                    int argb = bi.getRGB(x, y);
                    rgb[i++] = (byte) (argb >> 16);
                    rgb[i++] = (byte) (argb >> 8);
                    rgb[i++] = (byte) argb;
                }
            }
            return new RgbImage(bi.getWidth(), bi.getHeight(), rgb);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int imageIoGray(java.nio.file.Path p) {
        try {
            java.awt.image.BufferedImage bi = javax.imageio.ImageIO.read(p.toFile());
            assertThat(bi.getRaster().getNumBands()).isEqualTo(1);
            return bi.getRaster().getSample(0, 0, 0);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void sixteenBitKeepsTheHighByte() {
        RgbImage img = read("java_gray16.png");
        int[] expected = {0x00, 0x12, 0x80, 0xFF};
        for (int x = 0; x < 4; x++) {
            int v = expected[x];
            assertThat(img.pixel(x, 0)).as("x=%d", x).isEqualTo(v << 16 | v << 8 | v);
        }
    }

    @Test
    void gifGivesItsFirstFrame() {
        RgbImage img = read("rgb_anim.gif");
        assertThat(img.width()).isEqualTo(40);
        assertThat(img.height()).isEqualTo(30);
        assertSolid(img, 255, 0, 0, 0);
    }

    @Test
    void cmykJpegBecomesRgb() {
        int[] e = CMYK_EXPECTED_RGB;
        assertSolid(read("java_cmyk.jpg"), e[0], e[1], e[2], 4);
    }

    @Test
    void bytesAndPathGiveTheSameImage() throws Exception {
        byte[] data = Files.readAllBytes(good("pattern.webp"));
        assertThat(MediaIO.readImage(MediaSource.ofBytes("row-7", data), L)).isEqualTo(read("pattern.webp"));
        assertThat(MediaIO.readImage(MediaSource.ofPath(good("pattern.webp").toUri().toString()), L))
                .isEqualTo(read("pattern.webp"));
    }

    @Test
    void decompressionBombIsRefusedFromTheHeader() {
        assertThatThrownBy(() -> MediaIO.readImage(src(bad("bomb_30000.png")), L))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining("bomb_30000.png")
                .hasMessageContaining("30000x30000")
                .hasMessageContaining("900000000")
                .hasMessageContaining("maxPixels=178956970");
        // a small limit refuses an ordinary image too, by header
        assertThatThrownBy(() -> MediaIO.readImage(src(good("solid_512.jpg")), L.withMaxPixels(1000)))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining("solid_512.jpg").hasMessageContaining("512x512");
    }

    @Test
    void headerProbeReadsSizes() throws Exception {
        for (String f : new String[] {"pattern.png", "pattern.jpg", "pattern.webp", "pattern_lossy.webp",
                                      "pattern.bmp"}) {
            ImageHeader h = ImageHeader.probe(Files.readAllBytes(good(f)));
            assertThat(h).as(f).isNotNull();
            assertThat(h.width()).as(f).isEqualTo(160);
            assertThat(h.height()).as(f).isEqualTo(120);
        }
        ImageHeader gif = ImageHeader.probe(Files.readAllBytes(good("rgb_anim.gif")));
        assertThat(gif.format()).isEqualTo("GIF");
        assertThat(gif.pixels()).isEqualTo(40 * 30);
        assertThat(ImageHeader.jpegComplete(Files.readAllBytes(good("pattern.jpg")))).isTrue();
        assertThat(ImageHeader.jpegComplete(Files.readAllBytes(bad("truncated.jpg")))).isFalse();
    }
}
