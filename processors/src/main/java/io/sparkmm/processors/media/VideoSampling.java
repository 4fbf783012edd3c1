package io.sparkmm.processors.media;

/**
 * Which frames of a video to keep: exactly one of the three modes is set.
 *
 * <ul>
 *   <li>{@code numFrames > 0}: that many frames spread uniformly over the whole video, as vLLM's
 *       video loader does (indices {@code np.linspace(0, total - 1, numFrames, dtype=int)}); a video
 *       with fewer frames yields all of them.</li>
 *   <li>{@code fps > 0}: every {@code round(videoFps / fps)}-th frame from frame 0, stopping at
 *       {@link MediaLimits#maxFrames()} (the tail of a long video is dropped, as vLLM's fps loaders
 *       stop at a maximum duration; the returned indices show where it stopped).</li>
 *   <li>{@code selector != null}: the selector picks the indices once the decoder knows the total
 *       frame count and frame rate (a model's own sampling rule, such as Qwen2-VL's); more than
 *       {@link MediaLimits#maxFrames()} indices fail rather than being cut, since dropping frames
 *       would silently change what the model's rule meant.</li>
 * </ul>
 */
public record VideoSampling(int numFrames, double fps, FrameSelector selector) {

    /** vLLM's default number of frames for a video item. */
    public static final int DEFAULT_NUM_FRAMES = 32;

    /** The uniform or fps mode (exactly one of the two positive). */
    public VideoSampling(int numFrames, double fps) {
        this(numFrames, fps, null);
    }

    public VideoSampling {
        if (numFrames < 0 || Double.isNaN(fps) || Double.isInfinite(fps) || fps < 0) {
            throw new IllegalArgumentException("numFrames must be >= 0 and fps finite and >= 0, got numFrames="
                    + numFrames + ", fps=" + fps);
        }
        int modes = (numFrames > 0 ? 1 : 0) + (fps > 0 ? 1 : 0) + (selector != null ? 1 : 0);
        if (modes != 1) {
            throw new IllegalArgumentException("exactly one of numFrames > 0, fps > 0 and a frame selector must be"
                    + " given, got numFrames=" + numFrames + ", fps=" + fps + ", selector=" + selector);
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

    /** Frames chosen by {@code selector} from the video's total frame count and frame rate. */
    public static VideoSampling select(FrameSelector selector) {
        if (selector == null) {
            throw new IllegalArgumentException("selector must not be null");
        }
        return new VideoSampling(0, 0, selector);
    }

    public boolean isUniform() {
        return numFrames > 0;
    }

    public boolean isSelector() {
        return selector != null;
    }
}
