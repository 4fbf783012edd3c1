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
 */
public record VideoClip(List<RgbImage> frames, int[] frameIndices, double fps, double durationSeconds) {

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
                && Double.compare(durationSeconds, other.durationSeconds) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * frames.hashCode() + Arrays.hashCode(frameIndices);
    }

    @Override
    public String toString() {
        return "VideoClip[" + frames.size() + " frames " + Arrays.toString(frameIndices) + ", fps=" + fps
                + ", duration=" + durationSeconds + "s]";
    }
}
