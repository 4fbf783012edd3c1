package io.sparkmm.processors.media;

/**
 * Chooses frames from what the container says about a video, before any pixel is decoded, so a
 * model's own sampling rule (for example Hugging Face's {@code sample_frames} of a video processor)
 * decides which frames get converted to RGB.
 */
@FunctionalInterface
public interface FrameSelector {

    /**
     * @param totalFrames the video's frame count, positive
     * @param videoFps    its native frame rate, positive
     * @return 0-based frame indices, strictly ascending, each below {@code totalFrames}, at least one
     * @throws IllegalArgumentException when the rule cannot sample this video (the decoder reports it
     *         as a {@link MediaException} naming the item)
     */
    int[] select(int totalFrames, double videoFps);
}
