package io.sparkmm.processors.media;

import java.util.Arrays;
import java.util.List;

/**
 * Sampled video frames.
 *
 * @param frames          the chosen frames, RGB, in presentation order
 * @param frameIndices    for each frame, its 0-based index among all decoded frames of the video
 * @param fps             the video's native frame rate (frames per second)
 * @param durationSeconds the whole video's duration (not only the sampled span)
 * @param totalFrames     frames in the whole video, or 0 when not known
 */
public record VideoClip(List<RgbImage> frames, int[] frameIndices, double fps, double durationSeconds,
                        int totalFrames) {

    /** A clip whose total frame count is not known. */
    public VideoClip(List<RgbImage> frames, int[] frameIndices, double fps, double durationSeconds) {
        this(frames, frameIndices, fps, durationSeconds, 0);
    }

    public VideoClip {
        if (frames == null || frameIndices == null) {
            throw new IllegalArgumentException("frames and frameIndices must not be null");
        }
        frames = List.copyOf(frames);
        if (frames.size() != frameIndices.length) {
            throw new IllegalArgumentException(frames.size() + " frames but " + frameIndices.length + " indices");
        }
        frameIndices = frameIndices.clone();
        if (!(fps > 0) || !(durationSeconds >= 0)) {
            throw new IllegalArgumentException("fps must be > 0 and duration >= 0, got " + fps + ", " + durationSeconds);
        }
        if (totalFrames < 0) {
            throw new IllegalArgumentException("totalFrames must be >= 0 (0: unknown), got " + totalFrames);
        }
        for (int i : frameIndices) {
            if (i < 0 || (totalFrames > 0 && i >= totalFrames)) {
                throw new IllegalArgumentException("frame index " + i + " outside [0, " + totalFrames + ")");
            }
        }
    }

    /**
     * Frame rate of the sampled frames, as Hugging Face's {@code VideoMetadata.sampled_fps} computes
     * it ({@code len(frames_indices) / total_num_frames * fps}; Qwen2.5-VL's second_per_grid_ts is
     * derived from it). Without a known total it is the native {@code fps}, as HF's metadata without
     * a frame count.
     */
    public double sampledFps() {
        return totalFrames > 0 ? (double) frames.size() / totalFrames * fps : fps;
    }

    @Override
    public int[] frameIndices() {
        return frameIndices.clone();
    }

    public int numFrames() {
        return frames.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VideoClip other && frames.equals(other.frames)
                && Arrays.equals(frameIndices, other.frameIndices)
                && Double.compare(fps, other.fps) == 0
                && Double.compare(durationSeconds, other.durationSeconds) == 0
                && totalFrames == other.totalFrames;
    }

    @Override
    public int hashCode() {
        return 31 * frames.hashCode() + Arrays.hashCode(frameIndices);
    }

    @Override
    public String toString() {
        return "VideoClip[" + frames.size() + " frames " + Arrays.toString(frameIndices) + " of " + totalFrames
                + ", fps=" + fps + ", duration=" + durationSeconds + "s]";
    }
}
