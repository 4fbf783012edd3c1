package io.sparkmm.processors.media;

import org.bytedeco.javacv.FFmpegFrameGrabber;

/**
 * Cheap facts about media items: the modality from magic bytes, and sizes, durations and rates
 * from headers, without decoding pixels or samples. Used where a whole table of files is
 * listed (the Spark data source), so one corrupt file must only ever cost its own row.
 *
 * <p>Images are probed from their first bytes ({@link ImageHeader}); audio and video through
 * FFmpeg's demuxer with the same hardening as decoding ({@link FFmpegInput}): only our
 * demuxers, only the file protocol, bounded probing.
 */
public final class MediaProbe {

    public static final String IMAGE = "image";
    public static final String AUDIO = "audio";
    public static final String VIDEO = "video";

    /** Head bytes {@link #sniff} looks at. */
    public static final int SNIFF_BYTES = 32;
    /**
     * Head bytes that hold an image's size in practice; a JPEG with a large EXIF block can put
     * its frame header further, then the caller retries with the whole file.
     */
    public static final int IMAGE_HEADER_BYTES = 64 * 1024;

    private MediaProbe() {
    }

    /**
     * The modality the magic bytes say, or null when they match none of our formats.
     *
     * <p>Some containers carry audio or video alike (MP4/ISO-BMFF, Matroska/WebM, Ogg): for those
     * a {@code hint} of {@code audio} or {@code video} (usually from the file extension) is
     * kept, since the magic cannot contradict it; otherwise the container's usual content is
     * returned (video for MP4 unless its brand is M4A, video for Matroska, audio for Ogg).
     */
    public static String sniff(byte[] head, String hint) {
        if (head == null) {
            return null;
        }
        if (ImageHeader.probe(head) != null || isImageMagic(head)) {
            return IMAGE;
        }
        boolean avHint = AUDIO.equals(hint) || VIDEO.equals(hint);
        if (at(head, 4, "ftyp")) {   // ISO-BMFF: MP4, M4A, MOV, 3GP
            return avHint ? hint : at(head, 8, "M4A ") || at(head, 8, "M4B ") ? AUDIO : VIDEO;
        }
        if (startsWith(head, 0x1A, 0x45, 0xDF, 0xA3)) {   // EBML: Matroska, WebM
            return avHint ? hint : VIDEO;
        }
        if (at(head, 0, "OggS")) {
            return avHint ? hint : AUDIO;
        }
        if (at(head, 0, "RIFF") && at(head, 8, "AVI ")) {
            return VIDEO;
        }
        if (at(head, 0, "RIFF") && at(head, 8, "WAVE") || at(head, 0, "fLaC") || at(head, 0, "ID3")) {
            return AUDIO;
        }
        // MPEG audio (MP3) or ADTS (AAC) frame sync: 11 set bits; JPEG's FF D8 does not match
        if (head.length >= 2 && (head[0] & 0xFF) == 0xFF && (head[1] & 0xE0) == 0xE0) {
            return AUDIO;
        }
        return null;
    }

    /**
     * Width and height from an image's bytes (its head or the whole file).
     *
     * @throws MediaException when the header is not one of our formats or is cut short
     */
    public static MediaInfo probeImage(String item, byte[] bytes) {
        ImageHeader h = ImageHeader.probe(bytes);
        if (h == null) {
            throw new MediaException(item, "cannot read an image size from the header"
                    + " (not JPEG/PNG/WebP/BMP/GIF, or truncated)");
        }
        return new MediaInfo(IMAGE, h.width(), h.height(), null, null, null, null);
    }

    /**
     * Probes an item of the given modality. Images read their bytes from {@code src} (bounded by
     * {@code limits}); audio and video open FFmpeg's demuxer and its decoders' parameters only.
     *
     * @throws MediaException when the item cannot be read or has no stream of that modality
     */
    public static MediaInfo probe(MediaSource src, String modality, MediaLimits limits) {
        if (IMAGE.equals(modality)) {
            return probeImage(src.name(), src.bytes(limits));
        }
        if (!AUDIO.equals(modality) && !VIDEO.equals(modality)) {
            throw new IllegalArgumentException("modality must be image, audio or video, got " + modality);
        }
        FFmpegInput in = FFmpegInput.resolve(src, limits);
        FFmpegFrameGrabber g = in.open(modality, gr -> { });
        try {
            Double duration = g.getLengthInTime() > 0 ? g.getLengthInTime() / 1e6 : null;
            Integer rate = g.hasAudio() && g.getSampleRate() > 0 ? g.getSampleRate() : null;
            Integer channels = g.hasAudio() && g.getAudioChannels() > 0 ? g.getAudioChannels() : null;
            if (AUDIO.equals(modality)) {
                if (!g.hasAudio()) {
                    throw new MediaException(in.item(), "no audio stream (format " + g.getFormat() + ")");
                }
                // a cover picture in an MP3/M4A is a "video" stream: not this item's size
                return new MediaInfo(AUDIO, null, null, duration, null, rate, channels);
            }
            if (!g.hasVideo()) {
                throw new MediaException(in.item(), "no video stream (format " + g.getFormat() + ")");
            }
            Integer w = g.getImageWidth() > 0 ? g.getImageWidth() : null;
            Integer h = g.getImageHeight() > 0 ? g.getImageHeight() : null;
            double fps = g.getVideoFrameRate();
            return new MediaInfo(VIDEO, w, h, duration, fps > 0 && !Double.isInfinite(fps) ? fps : null,
                    rate, channels);
        } finally {
            FFmpegInput.close(g);
        }
    }

    /** Image signatures whose header {@link ImageHeader} may still reject as too short. */
    private static boolean isImageMagic(byte[] b) {
        return startsWith(b, 0x89, 'P', 'N', 'G') || startsWith(b, 0xFF, 0xD8, 0xFF) || at(b, 0, "GIF8")
                || at(b, 0, "RIFF") && at(b, 8, "WEBP") || at(b, 0, "BM") && b.length >= 14 && b[6] == 0
                && b[7] == 0 && b[8] == 0 && b[9] == 0;   // BMP's reserved fields are zero
    }

    private static boolean at(byte[] b, int off, String ascii) {
        if (b.length < off + ascii.length()) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            if (b[off + i] != (byte) ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWith(byte[] b, int... sig) {
        if (b.length < sig.length) {
            return false;
        }
        for (int i = 0; i < sig.length; i++) {
            if ((b[i] & 0xFF) != sig[i]) {
                return false;
            }
        }
        return true;
    }
}
