package io.sparkmm.processors.media;

/**
 * Reads an image's format and size from its first bytes, without decoding pixels, so a
 * decompression bomb (a small file that decodes to gigabytes) is refused before the decoder
 * allocates anything. Also tells whether a JPEG is complete: libjpeg-turbo happily "decodes"
 * a truncated JPEG by padding it with gray, while PIL refuses it ("image file is truncated").
 *
 * <p>Only the container fields needed for that are parsed; anything unexpected yields
 * {@code null} and the decoder decides.
 */
record ImageHeader(String format, int width, int height) {

    long pixels() {
        return (long) width * height;
    }

    /** Format and size, or null when the format is unknown or the header is too short. */
    static ImageHeader probe(byte[] b) {
        if (startsWith(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            // 8-byte signature, then the IHDR chunk: length, "IHDR", width, height (big-endian)
            return b.length >= 24 && startsWith(b, 12, 'I', 'H', 'D', 'R')
                    ? sized("PNG", be32(b, 16), be32(b, 20)) : null;
        }
        if (startsWith(b, 0, 'G', 'I', 'F', '8') && b.length >= 10) {
            return sized("GIF", le16(b, 6), le16(b, 8));   // logical screen size
        }
        if (startsWith(b, 0, 'B', 'M') && b.length >= 26) {
            int dib = le32(b, 14);
            if (dib == 12) {   // OS/2 BITMAPCOREHEADER: 16-bit sizes
                return sized("BMP", le16(b, 18), le16(b, 20));
            }
            return sized("BMP", le32(b, 18), Math.abs(le32(b, 22)));   // negative height = top-down
        }
        if (startsWith(b, 0, 'R', 'I', 'F', 'F') && startsWith(b, 8, 'W', 'E', 'B', 'P') && b.length >= 30) {
            return webp(b);
        }
        if (startsWith(b, 0, 0xFF, 0xD8, 0xFF)) {
            return jpeg(b);
        }
        return null;
    }

    private static ImageHeader webp(byte[] b) {
        int d = 20;   // first chunk's payload
        if (startsWith(b, 12, 'V', 'P', '8', 'X')) {   // extended: 24-bit canvas size minus one
            return sized("WEBP", (le24(b, d + 4)) + 1, (le24(b, d + 7)) + 1);
        }
        if (startsWith(b, 12, 'V', 'P', '8', 'L') && (b[d] & 0xFF) == 0x2F) {   // lossless: 14-bit sizes minus one
            int bits = le32(b, d + 1);
            return sized("WEBP", (bits & 0x3FFF) + 1, (bits >>> 14 & 0x3FFF) + 1);
        }
        if (startsWith(b, 12, 'V', 'P', '8', ' ') && startsWith(b, d + 3, 0x9D, 0x01, 0x2A)) {   // lossy key frame
            return sized("WEBP", le16(b, d + 6) & 0x3FFF, le16(b, d + 8) & 0x3FFF);
        }
        return null;
    }

    /** Walks the marker segments up to the first start-of-frame, which holds the size. */
    private static ImageHeader jpeg(byte[] b) {
        int i = 2;
        while (i + 3 < b.length) {
            if ((b[i] & 0xFF) != 0xFF) {
                return null;
            }
            int marker = b[i + 1] & 0xFF;
            if (marker == 0xFF) {   // fill byte
                i++;
                continue;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                i += 2;   // stand-alone markers carry no length
                continue;
            }
            int len = be16(b, i + 2);
            boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof) {
                return i + 8 < b.length ? sized("JPEG", be16(b, i + 7), be16(b, i + 5)) : null;
            }
            if (marker == 0xDA || marker == 0xD9 || len < 2) {
                return null;   // scan data or end before any frame header
            }
            i += 2 + len;
        }
        return null;
    }

    /**
     * True when the JPEG reaches its end-of-image marker: segments are walked, entropy-coded
     * data is skipped (inside it 0xFF is always followed by 0x00 or a restart marker), and
     * bytes after the EOI (camera trailers, motion-photo videos) are allowed.
     */
    static boolean jpegComplete(byte[] b) {
        int i = 2;
        while (i + 1 < b.length) {
            if ((b[i] & 0xFF) != 0xFF) {
                return false;
            }
            int marker = b[i + 1] & 0xFF;
            if (marker == 0xD9) {
                return true;
            }
            if (marker == 0xFF) {
                i++;
                continue;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                i += 2;
                continue;
            }
            if (i + 3 >= b.length) {
                return false;
            }
            i += 2 + be16(b, i + 2);
            if (marker == 0xDA) {   // start of scan: skip entropy-coded bytes to the next real marker
                while (i + 1 < b.length) {
                    if ((b[i] & 0xFF) == 0xFF) {
                        int n = b[i + 1] & 0xFF;
                        if (n != 0x00 && n != 0xFF && (n < 0xD0 || n > 0xD7)) {
                            break;
                        }
                        i += n == 0xFF ? 1 : 2;
                    } else {
                        i++;
                    }
                }
            }
        }
        return false;
    }

    private static ImageHeader sized(String format, int w, int h) {
        return w > 0 && h > 0 ? new ImageHeader(format, w, h) : null;
    }

    private static boolean startsWith(byte[] b, int off, int... sig) {
        if (b.length < off + sig.length) {
            return false;
        }
        for (int k = 0; k < sig.length; k++) {
            if ((b[off + k] & 0xFF) != sig[k]) {
                return false;
            }
        }
        return true;
    }

    private static int be16(byte[] b, int i) {
        return (b[i] & 0xFF) << 8 | (b[i + 1] & 0xFF);
    }

    private static int be32(byte[] b, int i) {
        return (b[i] & 0xFF) << 24 | (b[i + 1] & 0xFF) << 16 | (b[i + 2] & 0xFF) << 8 | (b[i + 3] & 0xFF);
    }

    private static int le16(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8;
    }

    private static int le24(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16;
    }

    private static int le32(byte[] b, int i) {
        return i + 3 < b.length ? le24(b, i) | (b[i + 3] & 0xFF) << 24 : 0;
    }
}
