package io.sparkmm.processors.media;

/**
 * Which frames of a video to keep: exactly one of the two fields is positive.
 *
 * <ul>
 *   <li>{@code numFrames > 0}: that many frames spread uniformly over the whole video, as vLLM's
 *       video loader does (indices {@code np.linspace(0, total - 1, numFrames, dtype=int)}); a video
 *       with fewer frames yields all of them.</li>
 *   <li>{@code fps > 0}: every {@code round(videoFps / fps)}-th frame from frame 0, stopping at
 *       {@link MediaLimits#maxFrames()} (the tail of a long video is dropped, as vLLM's fps loaders
 *       stop at a maximum duration; the returned indices show where it stopped).</li>
 * </ul>
 */
public record VideoSampling(int numFrames, double fps) {

    /** vLLM's default number of frames for a video item. */
    public static final int DEFAULT_NUM_FRAMES = 32;

    public VideoSampling {
        if (numFrames < 0 || Double.isNaN(fps) || Double.isInfinite(fps) || fps < 0) {
            throw new IllegalArgumentException("numFrames must be >= 0 and fps finite and >= 0, got numFrames="
                    + numFrames + ", fps=" + fps);
        }
        if ((numFrames > 0) == (fps > 0)) {
            throw new IllegalArgumentException("exactly one of numFrames and fps must be > 0, got numFrames="
                    + numFrames + ", fps=" + fps);
        }
    }

    /** {@code n} frames uniformly spaced over the whole video. */
    public static VideoSampling uniform(int n) {
        return new VideoSampling(n, 0);
    }

    /** {@value #DEFAULT_NUM_FRAMES} uniformly spaced frames (vLLM's default). */
    public static VideoSampling uniform() {
        return uniform(DEFAULT_NUM_FRAMES);
    }

    /** Frames at (about) {@code fps} frames per second. */
    public static VideoSampling atFps(double fps) {
        return new VideoSampling(0, fps);
    }

    public boolean isUniform() {
        return numFrames > 0;
    }
}
