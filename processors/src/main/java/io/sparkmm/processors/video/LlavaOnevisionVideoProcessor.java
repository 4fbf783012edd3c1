package io.sparkmm.processors.video;

import io.sparkmm.processors.image.LlavaOnevisionImageProcessorConfig;
import io.sparkmm.processors.image.PilResample;
import io.sparkmm.processors.media.RgbImage;

import java.util.List;

/**
 * Hugging Face's {@code LlavaOnevisionVideoProcessor} (transformers 5.18) on frames already decoded
 * and chosen: every frame resized to {@code size} (no aspect ratio kept, no tiling), then rescale and
 * normalize fused as HF's torchvision backend does ({@link TorchvisionNormalization}); out
 * {@code pixel_values_videos [T, 3, H, W]}. HF's class samples no frames ({@code do_sample_frames}
 * false): which frames come in is the decoder's choice.
 *
 * <p>HF resizes videos with torchvision only (bicubic, antialias); we resize with Pillow's algorithm
 * ({@link PilResample}) like the project's other processors. A frame that already has the output size
 * is not resampled by either, so both agree bit for bit there; otherwise the output equals HF's
 * processor fed Pillow-resized frames bit for bit and HF's own within a few byte levels per pixel.
 *
 * <p>The settings are the video processor's entries that an image processor config also has (size,
 * resample, rescale, normalize), so they are read with {@link LlavaOnevisionImageProcessorConfig}.
 * Thread-safe and immutable.
 */
public final class LlavaOnevisionVideoProcessor {

    private final LlavaOnevisionImageProcessorConfig config;
    private final PilResample.Filter filter;
    private final float[][] lut;

    public LlavaOnevisionVideoProcessor(LlavaOnevisionImageProcessorConfig config) {
        this.config = config;
        this.filter = PilResample.Filter.fromPil(config.resample());
        this.lut = TorchvisionNormalization.table(config.doRescale(), config.rescaleFactor(), config.doNormalize(),
                config.imageMean(), config.imageStd());
    }

    public LlavaOnevisionImageProcessorConfig config() {
        return config;
    }

    /** {height, width} of every processed frame of a video whose frames are {@code width x height}. */
    public int[] outputSize(int width, int height) {
        return config.doResize() ? new int[] {config.sizeHeight(), config.sizeWidth()} : new int[] {height, width};
    }

    /**
     * @param frames T >= 1 frames of one size
     * @return pixel_values_videos, [T, 3, H, W] flattened
     */
    public float[] process(List<RgbImage> frames) {
        if (frames == null || frames.isEmpty()) {
            throw new IllegalArgumentException("a video needs at least one frame");
        }
        RgbImage first = frames.get(0);
        int[] out = outputSize(first.width(), first.height());
        int h = out[0];
        int w = out[1];
        int plane = h * w;
        float[] dst = new float[Math.multiplyExact(frames.size(), 3 * plane)];
        for (int t = 0; t < frames.size(); t++) {
            RgbImage f = frames.get(t);
            if (f.width() != first.width() || f.height() != first.height()) {
                throw new IllegalArgumentException("frame " + t + " is " + f.width() + "x" + f.height()
                        + " but frame 0 is " + first.width() + "x" + first.height());
            }
            byte[] rgb = f.width() == w && f.height() == h ? f.rgb()
                    : PilResample.resize(f.rgb(), f.width(), f.height(), w, h, filter);
            int o = t * 3 * plane;
            for (int p = 0; p < plane; p++) {
                dst[o + p] = lut[0][rgb[3 * p] & 0xFF];
                dst[o + plane + p] = lut[1][rgb[3 * p + 1] & 0xFF];
                dst[o + 2 * plane + p] = lut[2][rgb[3 * p + 2] & 0xFF];
            }
        }
        return dst;
    }
}
