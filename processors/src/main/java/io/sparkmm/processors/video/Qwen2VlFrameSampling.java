package io.sparkmm.processors.video;

/**
 * Hugging Face's {@code Qwen2VLVideoProcessor.sample_frames} (transformers 5.18): which frames of a
 * video of {@code total} frames at {@code videoFps} the model sees. Pure arithmetic, so the decoder
 * can run it before decoding (see {@link io.sparkmm.processors.media.VideoSampling#select}).
 *
 * <p>How many, {@code tps} being temporal_patch_size:
 * <ul>
 *   <li>num_frames given: {@code round(num_frames / tps) * tps} (Python round: half to even);</li>
 *   <li>else fps given: {@code maxF = floor(min(max_frames, total) / tps) * tps},
 *       {@code n = total / videoFps * fps}, {@code n = min(max(n, min_frames), maxF, total)},
 *       {@code floor(n / tps) * tps};</li>
 *   <li>neither: HF fails (a TypeError comparing None), and so do we, with a clear message.</li>
 * </ul>
 * More than {@code total} fails as in HF; 0 frames fails (HF divides by zero: a video shorter than
 * tps frames under the fps rule).
 *
 * <p>Which: {@code torch.arange(0, total, total / n).int()} with torch's CPU arithmetic, i.e.
 * {@code ceil(total / step)} elements (in double), element i is {@code (int) (float) (i * step)}
 * (double product rounded to the float32 result dtype, then truncated). For some (total, n), e.g.
 * (17, 14) or (30, 26), that yields n + 1 elements whose last is {@code total}, and HF then fails
 * indexing the video. We drop indices {@code >= total} instead, keeping HF's first n: the frames HF
 * meant, rather than failing the row. Checked against torch for every 1 <= n <= total < 1500: the
 * overshoot, when present, is always exactly that one trailing index.
 */
public final class Qwen2VlFrameSampling {

    private Qwen2VlFrameSampling() {
    }

    /**
     * @param total     frames in the video, positive
     * @param videoFps  the video's frame rate, positive (used by the fps rule only)
     * @param fps       frames per second to sample, or null
     * @param numFrames frames to sample, or null (exclusive with fps)
     * @return strictly ascending indices in [0, total)
     * @throws IllegalArgumentException when HF's rule cannot sample this video, saying why
     */
    public static int[] sampleFrames(int total, double videoFps, Double fps, Integer numFrames,
                                     int temporalPatchSize, int minFrames, int maxFrames) {
        if (total <= 0) {
            throw new IllegalArgumentException("a video needs at least one frame, got total_num_frames=" + total);
        }
        if (fps != null && numFrames != null) {
            throw new IllegalArgumentException("`num_frames` and `fps` are mutually exclusive arguments, got num_frames="
                    + numFrames + ", fps=" + fps);
        }
        int tps = temporalPatchSize;
        long n;
        if (numFrames != null) {
            n = (long) Math.rint((double) numFrames / tps) * tps;
        } else if (fps != null) {
            if (!(videoFps > 0) || Double.isInfinite(videoFps)) {
                throw new IllegalArgumentException("sampling at fps=" + fps + " needs the video's frame rate, got "
                        + videoFps);
            }
            long maxF = (long) Math.floor((double) Math.min(maxFrames, total) / tps) * tps;
            double want = total / videoFps * fps;
            double bounded = Math.min(Math.min(Math.max(want, minFrames), maxF), total);
            n = (long) Math.floor(bounded / tps) * tps;
        } else {
            throw new IllegalArgumentException("do_sample_frames is on but neither fps nor num_frames is set"
                    + " (Hugging Face fails here too); set one of them or turn do_sample_frames off");
        }
        if (n > total) {
            throw new IllegalArgumentException("Video can't be sampled. The inferred `num_frames=" + n
                    + "` exceeds `total_num_frames=" + total + "`. Decrease `num_frames` or `fps` for sampling.");
        }
        if (n <= 0) {
            throw new IllegalArgumentException("Video can't be sampled: " + total + " frames give num_frames=0 with"
                    + " temporal_patch_size=" + tps + (numFrames != null ? " and num_frames=" + numFrames
                    : ", fps=" + fps + " and max_frames=" + maxFrames) + " (Hugging Face divides by zero here)");
        }
        return arange(total, (int) n);
    }

    /** All frames: what HF uses when do_sample_frames is off. */
    public static int[] allFrames(int total) {
        if (total <= 0) {
            throw new IllegalArgumentException("a video needs at least one frame, got total_num_frames=" + total);
        }
        int[] idx = new int[total];
        for (int i = 0; i < total; i++) {
            idx[i] = i;
        }
        return idx;
    }

    /** {@code torch.arange(0, total, total / n).int()}, without the out-of-range tail (see class doc). */
    static int[] arange(int total, int n) {
        double step = (double) total / n;
        int len = (int) Math.ceil(total / step);
        int[] idx = new int[len];
        int kept = 0;
        for (int i = 0; i < len; i++) {
            int v = (int) (float) (i * step);
            if (v < total) {
                idx[kept++] = v;
            }
        }
        return kept == len ? idx : java.util.Arrays.copyOf(idx, kept);
    }
}
