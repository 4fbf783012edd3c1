package io.sparkmm.processors.media;

/**
 * Media in, pixels and samples out: the decoding front of the processors.
 *
 * <p>Stateless and thread-safe: Spark calls it from many task threads at once; every call opens
 * its own native decoder and releases it before returning (also on failure). Every failure that
 * is the item's fault (missing, too large, empty, corrupt, truncated, unsupported) is a
 * {@link MediaException} naming the item and the cause, so the connector can put it in the
 * row's error column and carry on.
 *
 * <p>Defaults follow vLLM's media IO: images as RGB with alpha on white; audio decoded and
 * resampled to the model's rate; video as {@value VideoSampling#DEFAULT_NUM_FRAMES} uniformly
 * spaced frames (see {@link VideoSampling}).
 */
public final class MediaIO {

    private MediaIO() {
    }

    /** Decodes a JPEG, PNG, WebP, BMP or GIF (first frame) to RGB; see {@link ImageDecoder}. */
    public static RgbImage readImage(MediaSource src, MediaLimits limits) {
        return ImageDecoder.decode(src.name(), src.bytes(limits), limits);
    }

    /** Decodes audio to mono float at {@code targetSampleRate} Hz; see {@link AudioDecoder}. */
    public static AudioClip readAudio(MediaSource src, int targetSampleRate, MediaLimits limits) {
        return AudioDecoder.decode(src, targetSampleRate, limits);
    }

    /** Decodes the frames of a video that {@code sampling} selects, as RGB; see {@link VideoDecoder}. */
    public static VideoClip readVideo(MediaSource src, VideoSampling sampling, MediaLimits limits) {
        return VideoDecoder.decode(src, sampling, limits);
    }
}
