package io.sparkmm.processors.media;

/** Which frame indices a {@link VideoSampling} picks; pure arithmetic, no decoding. */
final class FrameIndices {

    private FrameIndices() {
    }

    /**
     * {@code n} indices spread over {@code total} frames exactly as vLLM's OpenCV video loader
     * computes them: {@code np.linspace(0, total - 1, n, dtype=int)}, that is
     * {@code (int) (i * step)} with {@code step = (total - 1) / (n - 1)} in double precision
     * (truncation toward zero), the last index set to {@code total - 1}. When the video has no
     * more than {@code n} frames, all of them are taken (vLLM's "full read").
     */
    static int[] uniform(int total, int n) {
        if (total <= 0 || n <= 0) {
            throw new IllegalArgumentException("total and n must be > 0, got " + total + ", " + n);
        }
        if (total <= n) {
            return range(total, 1, total);
        }
        int[] idx = new int[n];
        if (n == 1) {
            return idx;   // linspace with one point is the start
        }
        double step = (double) (total - 1) / (n - 1);
        for (int i = 0; i < n - 1; i++) {
            idx[i] = (int) (i * step);
        }
        idx[n - 1] = total - 1;
        return idx;
    }

    /**
     * Every {@code round(videoFps / fps)}-th frame from frame 0 (at least every frame), at most
     * {@code maxFrames} of them. Rounding is half-to-even, as Python's {@code round}.
     */
    static int[] atFps(int total, double videoFps, double fps, int maxFrames) {
        if (total <= 0 || !(videoFps > 0) || !(fps > 0) || maxFrames <= 0) {
            throw new IllegalArgumentException("bad fps sampling: total=" + total + ", videoFps=" + videoFps
                    + ", fps=" + fps + ", maxFrames=" + maxFrames);
        }
        long step = Math.max(1L, (long) Math.rint(videoFps / fps));
        long count = Math.min((total + step - 1) / step, maxFrames);
        return range((int) count, (int) step, total);
    }

    private static int[] range(int count, int step, int total) {
        int[] idx = new int[count];
        for (int i = 0; i < count; i++) {
            idx[i] = i * step;
        }
        return idx;
    }
}
