package io.sparkmm.processors.media;

import static org.bytedeco.opencv.global.opencv_core.CV_16U;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;

import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Decodes JPEG, PNG, WebP, BMP and GIF (first frame) with OpenCV's imgcodecs and turns every
 * pixel layout into 8-bit RGB the way PIL's {@code Image.open(...).convert("RGB")} plus vLLM's
 * white background would:
 *
 * <ul>
 *   <li>Gray and palette images become RGB (palettes are expanded by the decoder).</li>
 *   <li>CMYK (Adobe) JPEGs are converted by libjpeg-turbo/OpenCV; JPEGs are read straight to RGB.</li>
 *   <li>16-bit samples keep their high byte ({@code v >> 8}), as PIL does for 16-bit RGB(A) PNGs.
 *       (PIL clips 16-bit <em>gray</em> to 255 instead, which turns most such images white; we
 *       scale them the same way as colour.)</li>
 *   <li>Alpha is composited onto white: {@code out = round((c*a + 255*(255-a)) / 255)}. This is
 *       exactly what PIL's {@code Image.alpha_composite(white, img).convert("RGB")} and vLLM's
 *       {@code paste(img, mask=alpha)} onto white produce: both integer paths equal this rounding
 *       for all 65,536 (c, a) pairs, and no tie can occur because 255 is odd. Unlike PIL we also
 *       composite gray+alpha and transparent palettes (PIL's convert("RGB") drops their alpha).</li>
 *   <li>EXIF orientation is NOT applied: {@code PIL.Image.open} does not apply it either (only
 *       {@code ImageOps.exif_transpose} does), so HF processors see the stored pixel grid.</li>
 * </ul>
 *
 * <p>Decompression bombs: the size is read from the header ({@link ImageHeader}) and checked
 * against {@link MediaLimits#maxPixels()} before any pixel is decoded; the decoded size is checked
 * again for formats whose header we do not parse.
 */
final class ImageDecoder {

    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private ImageDecoder() {
    }

    static RgbImage decode(String item, byte[] data, MediaLimits limits) {
        if (data.length == 0) {
            throw new MediaException(item, "empty file (0 bytes), not an image");
        }
        ImageHeader header = ImageHeader.probe(data);
        if (header != null) {
            checkPixels(item, header.width(), header.height(), limits);
            if (header.format().equals("JPEG") && !ImageHeader.jpegComplete(data)) {
                throw new MediaException(item, "truncated JPEG (no end-of-image marker)");
            }
        }
        Natives.ensureLoaded();
        // JPEG has no alpha and may be CMYK: let the decoder produce RGB. Everything else is read
        // unchanged so we see alpha, gray and 16-bit samples. Both flags leave EXIF orientation alone.
        boolean jpeg = header != null && header.format().equals("JPEG");
        int flags = jpeg
                ? opencv_imgcodecs.IMREAD_COLOR_RGB | opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION
                : opencv_imgcodecs.IMREAD_UNCHANGED;
        String what = header == null ? "image" : header.format() + " image";
        try (BytePointer buf = new BytePointer(data);
             Mat encoded = new Mat(1, data.length, CV_8UC1, buf);
             Mat m = opencv_imgcodecs.imdecode(encoded, flags)) {
            if (m == null || m.empty()) {
                throw new MediaException(item, header == null
                        ? "not a decodable image (unrecognized or unsupported format, " + data.length + " bytes)"
                        : "corrupt or truncated " + what);
            }
            checkPixels(item, m.cols(), m.rows(), limits);
            return toRgb(item, m, jpeg);
        } catch (MediaException e) {
            throw e;
        } catch (RuntimeException e) {   // cv::Exception surfaces as RuntimeException
            throw new MediaException(item, "cannot decode " + what, e);
        }
    }

    static void checkPixels(String item, int width, int height, MediaLimits limits) {
        long px = (long) width * height;
        if (px > limits.maxPixels()) {
            throw new MediaException(item, "image is " + width + "x" + height + " = " + px
                    + " pixels, over the limit maxPixels=" + limits.maxPixels() + " (decompression bomb?)");
        }
    }

    /** Mat (BGR/BGRA/gray or RGB, 8- or 16-bit) to packed RGB with alpha on white. */
    private static RgbImage toRgb(String item, Mat m, boolean alreadyRgb) {
        int depth = m.depth();
        int ch = m.channels();
        if ((depth != CV_8U && depth != CV_16U) || (ch != 1 && ch != 3 && ch != 4)) {
            throw new MediaException(item, "unsupported pixel layout (OpenCV depth " + depth + ", " + ch
                    + " channels)");
        }
        int w = m.cols();
        int h = m.rows();
        int bytesPerSample = depth == CV_16U ? 2 : 1;
        int rowBytes = w * ch * bytesPerSample;
        long step = m.step();
        byte[] row = new byte[rowBytes];
        byte[] out = new byte[3 * w * h];
        BytePointer p = m.data();
        int[] s = new int[ch];
        int o = 0;
        for (int y = 0; y < h; y++) {
            p.position(y * step).get(row, 0, rowBytes);
            for (int x = 0, i = 0; x < w; x++) {
                for (int c = 0; c < ch; c++, i += bytesPerSample) {
                    s[c] = bytesPerSample == 1 ? row[i] & 0xFF : high8(row, i);
                }
                int r;
                int g;
                int b;
                if (ch == 1) {
                    r = g = b = s[0];
                } else if (alreadyRgb) {
                    r = s[0];
                    g = s[1];
                    b = s[2];
                } else {
                    r = s[2];
                    g = s[1];
                    b = s[0];
                }
                if (ch == 4) {
                    int a = s[3];
                    r = onWhite(r, a);
                    g = onWhite(g, a);
                    b = onWhite(b, a);
                }
                out[o++] = (byte) r;
                out[o++] = (byte) g;
                out[o++] = (byte) b;
            }
        }
        p.position(0);
        return new RgbImage(w, h, out);
    }

    /** The high byte of a native-order 16-bit sample. */
    private static int high8(byte[] row, int i) {
        return (LITTLE_ENDIAN ? row[i + 1] : row[i]) & 0xFF;
    }

    /** round((c*a + 255*(255-a)) / 255): colour c at alpha a over white; see the class comment. */
    static int onWhite(int c, int a) {
        int v = c * a + 255 * (255 - a);
        return (2 * v + 255) / 510;
    }
}
