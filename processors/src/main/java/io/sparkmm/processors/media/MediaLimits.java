package io.sparkmm.processors.media;

/**
 * Limits that protect an executor from hostile or accidental inputs. A media item over a limit
 * is refused with a {@link MediaException}; nothing is silently truncated (except fps video
 * sampling, see {@link VideoSampling}).
 *
 * @param maxFileBytes    largest encoded item, checked before the bytes are read
 * @param maxPixels       largest decoded image or video frame (width * height), checked from the
 *                        header before decoding where the format allows
 * @param maxAudioSeconds longest audio clip
 * @param maxFrames       most frames returned for one video
 */
public record MediaLimits(long maxFileBytes, long maxPixels, double maxAudioSeconds, int maxFrames) {

    /** 512 MiB. */
    public static final long DEFAULT_MAX_FILE_BYTES = 512L << 20;
    /** PIL's decompression-bomb limit ({@code Image.MAX_IMAGE_PIXELS}, 1024 * 1024 * 1024 // 4 // 3). */
    public static final long DEFAULT_MAX_PIXELS = 178_956_970L;
    public static final double DEFAULT_MAX_AUDIO_SECONDS = 600.0;
    public static final int DEFAULT_MAX_FRAMES = 1024;

    public MediaLimits {
        if (maxFileBytes <= 0) {
            throw new IllegalArgumentException("maxFileBytes must be > 0, got " + maxFileBytes);
        }
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be > 0, got " + maxPixels);
        }
        if (!(maxAudioSeconds > 0) || Double.isInfinite(maxAudioSeconds)) {
            throw new IllegalArgumentException("maxAudioSeconds must be finite and > 0, got " + maxAudioSeconds);
        }
        if (maxFrames <= 0) {
            throw new IllegalArgumentException("maxFrames must be > 0, got " + maxFrames);
        }
    }

    public static MediaLimits defaults() {
        return new MediaLimits(DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_AUDIO_SECONDS,
                DEFAULT_MAX_FRAMES);
    }

    public MediaLimits withMaxFileBytes(long v) {
        return new MediaLimits(v, maxPixels, maxAudioSeconds, maxFrames);
    }

    public MediaLimits withMaxPixels(long v) {
        return new MediaLimits(maxFileBytes, v, maxAudioSeconds, maxFrames);
    }

    public MediaLimits withMaxAudioSeconds(double v) {
        return new MediaLimits(maxFileBytes, maxPixels, v, maxFrames);
    }

    public MediaLimits withMaxFrames(int v) {
        return new MediaLimits(maxFileBytes, maxPixels, maxAudioSeconds, v);
    }
}
