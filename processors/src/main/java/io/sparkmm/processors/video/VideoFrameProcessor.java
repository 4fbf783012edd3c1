package io.sparkmm.processors.video;

import io.sparkmm.processors.image.ClipImageProcessor;
import io.sparkmm.processors.media.RgbImage;
import java.util.List;

/**
 * Sampled video frames through an image processor, stacked along time. Frame sampling (which
 * frames, how many) belongs to media decoding; this only turns the chosen frames into a tensor.
 *
 * <p>Thread-safe when the image processor is (ClipImageProcessor is).
 */
public final class VideoFrameProcessor {

    private final ClipImageProcessor imageProcessor;

    public VideoFrameProcessor(ClipImageProcessor imageProcessor) {
        this.imageProcessor = imageProcessor;
    }

    public ClipImageProcessor imageProcessor() {
        return imageProcessor;
    }

    /**
     * Processes the frames; all must come out the same size (true with a center crop, or with a
     * fixed resize, or when the frames share one size).
     *
     * @param frames T >= 1 decoded frames
     * @return pixel_values_videos, float [T, 3, H, W]
     */
    public float[] process(List<RgbImage> frames) {
        if (frames == null || frames.isEmpty()) {
            throw new IllegalArgumentException("a video needs at least one frame");
        }
        int[] size = imageProcessor.outputSize(frames.get(0).width(), frames.get(0).height());
        int frameLen = 3 * size[0] * size[1];
        float[] out = new float[Math.multiplyExact(frames.size(), frameLen)];
        for (int t = 0; t < frames.size(); t++) {
            RgbImage f = frames.get(t);
            int[] s = imageProcessor.outputSize(f.width(), f.height());
            if (s[0] != size[0] || s[1] != size[1]) {
                throw new IllegalArgumentException("frame " + t + " (" + f.width() + "x" + f.height()
                        + ") gives " + s[1] + "x" + s[0] + " but frame 0 gives " + size[1] + "x" + size[0]);
            }
            imageProcessor.processInto(f, out, t * frameLen);
        }
        return out;
    }
}
