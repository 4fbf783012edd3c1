package io.sparkmm.processors.video;

import io.sparkmm.processors.image.PilResample;
import io.sparkmm.processors.image.Qwen2VlPatches;
import io.sparkmm.processors.image.SmartResize;
import io.sparkmm.processors.media.FrameSelector;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.media.VideoClip;
import io.sparkmm.processors.media.VideoSampling;
import java.util.List;

/**
 * Hugging Face's Qwen2-VL / Qwen2.5-VL video processor ({@code Qwen2VLVideoProcessor},
 * transformers 5.18) on frames that are already decoded and chosen:
 * <ol>
 *   <li>every frame is resized to one {@code smart_resize} size, the image rule with the frame's
 *       size; with capPixelsPerFrame the per-frame maximum is first lowered to
 *       {@code max(min(max_pixels, int(max_video_tokens * factor^2 * 0.9) * tps // num_frames),
 *       int(min_pixels * 1.05))}, num_frames being the frames given (before padding);</li>
 *   <li>rescale and normalize, fused as HF's torchvision backend does it (see
 *       {@link #normalizationTable});</li>
 *   <li>the frame count is padded to a multiple of temporal_patch_size by repeating the last frame;</li>
 *   <li>patchify to [gridT * gridH * gridW, 3 * tps * P * P]: rows by time step, then merge window,
 *       then row/column inside the window; columns (channel, frame within the step, patch row,
 *       patch column). HF gets this from a view to [gt, tps, C, gh/m, m, P, gw/m, m, P] and the
 *       permutation (0, 3, 6, 4, 7, 2, 1, 5, 8).</li>
 * </ol>
 *
 * <p>HF resizes videos with torchvision only (bicubic, antialias); there is no Pillow video path.
 * We resize with Pillow's algorithm ({@link PilResample}), as the project's image processors do:
 * the output equals HF's processor fed Pillow-resized frames bit for bit, and HF's own torchvision
 * output within a couple of byte levels per resized pixel (the two bicubic implementations round
 * differently).
 *
 * <p>Thread-safe and immutable.
 */
public final class Qwen2VlVideoProcessor {

    /** HF's {@code VideoMetadata.sampled_fps} when the video's frame rate is unknown. */
    public static final double UNKNOWN_FPS = 24;

    private final Qwen2VlVideoProcessorConfig config;
    private final PilResample.Filter filter;
    /** Normalized value of each byte value, per channel: [3, 256]. */
    private final float[][] lut;

    public Qwen2VlVideoProcessor(Qwen2VlVideoProcessorConfig config) {
        this.config = config;
        this.filter = PilResample.Filter.fromPil(config.resample());
        this.lut = normalizationTable(config);
    }

    public Qwen2VlVideoProcessorConfig config() {
        return config;
    }

    /**
     * The settings HF accepts as processor call kwargs (vLLM's mm_processor_kwargs): a null argument
     * keeps the configured value. min/max pixels replace size.shortest_edge/longest_edge, as HF's
     * deprecated call kwargs do.
     */
    public Qwen2VlVideoProcessor withOverrides(Integer minPixels, Integer maxPixels, Boolean doSampleFrames,
                                               Double fps, Integer numFrames, Integer minFrames, Integer maxFrames) {
        if (minPixels == null && maxPixels == null && doSampleFrames == null && fps == null && numFrames == null
                && minFrames == null && maxFrames == null) {
            return this;
        }
        return new Qwen2VlVideoProcessor(
                config.with(minPixels, maxPixels, doSampleFrames, fps, numFrames, minFrames, maxFrames));
    }

    /** Same as {@link #withOverrides(Integer, Integer, Boolean, Double, Integer, Integer, Integer)} for pixels only. */
    public Qwen2VlVideoProcessor withOverrides(Integer minPixels, Integer maxPixels) {
        return withOverrides(minPixels, maxPixels, null, null, null, null, null);
    }

    /**
     * Which frames HF keeps of a video of {@code totalFrames} frames at {@code videoFps}: its
     * sample_frames when do_sample_frames is on, else every frame.
     */
    public int[] selectFrames(int totalFrames, double videoFps) {
        if (!config.doSampleFrames()) {
            return Qwen2VlFrameSampling.allFrames(totalFrames);
        }
        return Qwen2VlFrameSampling.sampleFrames(totalFrames, videoFps, config.fps(), config.numFrames(),
                config.temporalPatchSize(), config.minFrames(), config.maxFrames());
    }

    /** {@link #selectFrames} for the decoder: only the chosen frames get converted to RGB. */
    public FrameSelector frameSelector() {
        return this::selectFrames;
    }

    /** A decoding mode that selects frames as this processor's settings say. */
    public VideoSampling videoSampling() {
        return VideoSampling.select(frameSelector());
    }

    /**
     * Qwen2.5-VL's {@code second_per_grid_ts} entry: temporal_patch_size / the sampled frame rate.
     * HF 5.18 takes the rate from the video metadata ({@code VideoMetadata.sampled_fps}: kept frames
     * / total frames * native fps; see {@link #sampledFps}), not from the fps setting.
     */
    public double secondPerGridT(double sampledFps) {
        if (!(sampledFps > 0) || Double.isInfinite(sampledFps)) {
            throw new IllegalArgumentException("sampled fps must be positive and finite, got " + sampledFps);
        }
        return config.temporalPatchSize() / sampledFps;
    }

    /** {@link #secondPerGridT(double)} of a decoded clip. */
    public double secondPerGridT(VideoClip clip) {
        return secondPerGridT(clip.sampledFps());
    }

    /**
     * HF's {@code VideoMetadata.sampled_fps}: {@code kept / total * videoFps}; when the frame rate is
     * unknown ({@code videoFps <= 0} or NaN, e.g. raw frames without metadata) it is {@value #UNKNOWN_FPS}.
     */
    public static double sampledFps(int keptFrames, int totalFrames, double videoFps) {
        if (!(videoFps > 0)) {
            return UNKNOWN_FPS;
        }
        if (keptFrames <= 0 || totalFrames < keptFrames) {
            throw new IllegalArgumentException("kept " + keptFrames + " of " + totalFrames + " frames");
        }
        return (double) keptFrames / totalFrames * videoFps;
    }

    /** {height, width} every frame of a {@code numFrames}-frame video of this size is resized to. */
    public int[] resizedSize(int numFrames, int width, int height) {
        if (numFrames <= 0) {
            throw new IllegalArgumentException("a video needs at least one frame, got " + numFrames);
        }
        if (!config.doResize()) {
            return new int[] {height, width};
        }
        long maxPixels = config.maxPixels();
        if (config.capPixelsPerFrame()) {
            int factor = config.factor();
            long totalPixels = (long) ((double) config.maxVideoTokens() * factor * factor * 0.9);
            long share = totalPixels * config.temporalPatchSize() / numFrames;
            maxPixels = Math.max(Math.min(maxPixels, share), (long) (config.minPixels() * 1.05));
        }
        return SmartResize.resize(height, width, config.factor(), config.minPixels(), maxPixels);
    }

    /**
     * {t, h, w} of {@code video_grid_thw} for {@code numFrames} frames of this size, without touching
     * pixels (the model sees {@code t * h * w / mergeSize^2} tokens).
     */
    public int[] gridThw(int numFrames, int width, int height) {
        int[] hw = resizedSize(numFrames, width, height);
        checkGrid(hw[0], hw[1], width, height);
        int tps = config.temporalPatchSize();
        return new int[] {(numFrames + tps - 1) / tps, hw[0] / config.patchSize(), hw[1] / config.patchSize()};
    }

    /** Placeholder tokens of the video in the prompt: t * h * w / mergeSize^2. */
    public int numTokens(int numFrames, int width, int height) {
        int[] thw = gridThw(numFrames, width, height);
        return thw[0] * thw[1] * thw[2] / (config.mergeSize() * config.mergeSize());
    }

    /** Columns of pixel_values_videos: 3 * temporalPatchSize * patchSize^2. */
    public int patchDim() {
        return 3 * config.temporalPatchSize() * config.patchSize() * config.patchSize();
    }

    /** Preprocesses a decoded clip's frames. */
    public Qwen2VlPatches process(VideoClip clip) {
        return process(clip.frames());
    }

    /**
     * Preprocesses one video.
     *
     * @param frames the chosen frames in order, at least one, all the same size
     */
    public Qwen2VlPatches process(List<RgbImage> frames) {
        if (frames == null || frames.isEmpty()) {
            throw new IllegalArgumentException("a video needs at least one frame, got 0");
        }
        RgbImage first = frames.get(0);
        for (int i = 1; i < frames.size(); i++) {
            RgbImage f = frames.get(i);
            if (f.width() != first.width() || f.height() != first.height()) {
                throw new IllegalArgumentException("all frames of a video must have one size: frame " + i + " is "
                        + f.width() + "x" + f.height() + " but frame 0 is " + first.width() + "x" + first.height()
                        + " (width x height)");
            }
        }
        int n = frames.size();
        int[] thw = gridThw(n, first.width(), first.height());
        int h = thw[1] * config.patchSize();
        int w = thw[2] * config.patchSize();
        byte[][] resized = new byte[n][];
        for (int i = 0; i < n; i++) {
            RgbImage f = frames.get(i);
            resized[i] = config.doResize()
                    ? PilResample.resize(f.rgb(), f.width(), f.height(), w, h, filter) : f.rgb();
        }
        float[] dst = new float[Math.multiplyExact(thw[0] * thw[1] * thw[2], patchDim())];
        patchify(resized, w, thw, dst);
        return new Qwen2VlPatches(dst, thw[0], thw[1], thw[2]);
    }

    private void patchify(byte[][] frames, int w, int[] thw, float[] dst) {
        int p = config.patchSize();
        int m = config.mergeSize();
        int tps = config.temporalPatchSize();
        int gh = thw[1];
        int gw = thw[2];
        int plane = tps * p * p;      // floats per channel in a row
        int row = 0;
        for (int gt = 0; gt < thw[0]; gt++) {
            for (int bh = 0; bh < gh / m; bh++) {
                for (int bw = 0; bw < gw / m; bw++) {
                    for (int mh = 0; mh < m; mh++) {
                        for (int mw = 0; mw < m; mw++, row++) {
                            int y0 = (bh * m + mh) * p;
                            int x0 = (bw * m + mw) * p;
                            int base = row * patchDim();
                            for (int s = 0; s < tps; s++) {
                                // Padding repeats the last real frame.
                                byte[] rgb = frames[Math.min(gt * tps + s, frames.length - 1)];
                                Qwen2VlPatches.writeNormalized(lut, rgb, w, y0, x0, p, plane, dst, base + s * p * p);
                            }
                        }
                    }
                }
            }
        }
    }

    /** HF's reshape needs whole merge windows; say which rule failed, with the numbers. */
    private void checkGrid(int h, int w, int inW, int inH) {
        int f = config.factor();
        if (h < f || w < f) {
            throw new IllegalArgumentException("frame " + inW + "x" + inH + " (width x height) is too small for one "
                    + f + "x" + f + " merge window of patches (patch_size * merge_size = " + f + ") after the resize"
                    + " rules" + (config.doResize() ? "" : " (do_resize is off)"));
        }
        if (h % f != 0 || w % f != 0) {
            throw new IllegalArgumentException("frame size " + h + "x" + w + " (height x width) is not a multiple of"
                    + " patch_size * merge_size = " + f + "; enable do_resize or resize the frames first");
        }
    }

    /** The fused rescale/normalize table of HF's torchvision backend; see {@link TorchvisionNormalization}. */
    static float[][] normalizationTable(Qwen2VlVideoProcessorConfig c) {
        return TorchvisionNormalization.table(c.doRescale(), c.rescaleFactor(), c.doNormalize(), c.imageMean(),
                c.imageStd());
    }
}
