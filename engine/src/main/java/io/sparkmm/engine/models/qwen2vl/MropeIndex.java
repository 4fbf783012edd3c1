package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.models.RequestPositions;

/**
 * M-RoPE prompt positions of Qwen2-VL and Qwen2.5-VL: the (temporal, height, width) position of
 * every prompt token and the rope delta, as {@code get_rope_index} of transformers 4.57's
 * {@code modeling_qwen2_vl.py} / {@code modeling_qwen2_5_vl.py} (the code Qwen released the models
 * with, and what vLLM computes) gives them for one unpadded sequence.
 *
 * <p>The rules, so a reader can check a case by hand. A counter {@code pos} starts at 0. A text
 * token gets (pos, pos, pos) and pos += 1. A media item with grid (t, h, w) and merge size m covers
 * t * (h/m) * (w/m) consecutive pad tokens in (frame, row, column) order; the token at (f, r, c)
 * gets (pos + floor(f * interval), pos + r, pos + c), where interval is 1 except for Qwen2.5-VL
 * videos, where it is tokens_per_second * second_per_grid_t (float32 arithmetic, truncated as
 * torch's {@code .long()} does). After the item, pos = the largest position the item used + 1. The
 * delta is max(all positions) + 1 - promptLength: the token after the prompt continues from the
 * largest position used, in all three sections.
 *
 * <p>transformers 5.18 continues text after an item at its start + max(h, w) / m instead, which
 * differs only after a video whose temporal positions outrun its spatial ones (text then lands
 * below the video's last frames); the fixtures of both are in the tests, which show the two agree
 * everywhere else.
 *
 * <p>Media are found by token type (image pad, video pad), not by the vision start token, and
 * grids are taken in prompt order separately per modality, as transformers does. Where two items
 * of one modality touch (no vision start/end between them, which the processor never produces) the
 * run is split by the grids' token counts.
 */
public final class MropeIndex {

    private final int imageTokenId;
    private final int videoTokenId;
    private final int spatialMergeSize;
    /** 0 for Qwen2-VL, whose video frames are one temporal step apart whatever their timing. */
    private final int tokensPerSecond;

    private MropeIndex(int imageTokenId, int videoTokenId, int spatialMergeSize, int tokensPerSecond) {
        if (spatialMergeSize < 1) {
            throw new IllegalArgumentException("spatial_merge_size must be >= 1, got " + spatialMergeSize);
        }
        if (imageTokenId == videoTokenId) {
            throw new IllegalArgumentException("image and video token ids are both " + imageTokenId);
        }
        this.imageTokenId = imageTokenId;
        this.videoTokenId = videoTokenId;
        this.spatialMergeSize = spatialMergeSize;
        this.tokensPerSecond = tokensPerSecond;
    }

    /** Qwen2-VL: video frames sit one temporal position apart. */
    public static MropeIndex qwen2Vl(int imageTokenId, int videoTokenId, int spatialMergeSize) {
        return new MropeIndex(imageTokenId, videoTokenId, spatialMergeSize, 0);
    }

    /** Qwen2.5-VL: video frame f sits at floor(f * tokens_per_second * second_per_grid_t). */
    public static MropeIndex qwen25Vl(int imageTokenId, int videoTokenId, int spatialMergeSize, int tokensPerSecond) {
        if (tokensPerSecond < 1) {
            throw new IllegalArgumentException("tokens_per_second must be >= 1, got " + tokensPerSecond);
        }
        return new MropeIndex(imageTokenId, videoTokenId, spatialMergeSize, tokensPerSecond);
    }

    /** The raw result: positions[section][token] for sections (temporal, height, width), and the delta. */
    public record Result(int[][] positions, int delta) {
        public RequestPositions toRequestPositions() {
            return RequestPositions.sectioned(positions, delta);
        }
    }

    /** {@link #compute} wrapped as the engine's per-request positions. */
    public RequestPositions positions(int[] prompt, int[][] imageGrids, int[][] videoGrids, float[] secondPerGridTs) {
        return compute(prompt, imageGrids, videoGrids, secondPerGridTs).toRequestPositions();
    }

    /**
     * @param prompt the prompt token ids, media pad tokens already expanded
     * @param imageGrids each image's (t, h, w) patch grid, in prompt order; null for none
     * @param videoGrids each video's (t, h, w) patch grid, in prompt order; null for none
     * @param secondPerGridTs Qwen2.5-VL only: seconds per temporal grid step of each video; null
     *     means 1.0 for every video (as transformers does). Ignored by Qwen2-VL.
     */
    public Result compute(int[] prompt, int[][] imageGrids, int[][] videoGrids, float[] secondPerGridTs) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("empty prompt has no positions");
        }
        int[][] images = imageGrids == null ? new int[0][] : imageGrids;
        int[][] videos = videoGrids == null ? new int[0][] : videoGrids;
        checkCount("image", prompt, imageTokenId, images);
        checkCount("video", prompt, videoTokenId, videos);
        if (tokensPerSecond > 0 && secondPerGridTs != null && secondPerGridTs.length != videos.length) {
            throw new IllegalArgumentException(secondPerGridTs.length + " second_per_grid_ts values for "
                    + videos.length + " videos");
        }

        int[][] out = new int[3][prompt.length];
        int pos = 0;
        int max = -1;
        int nextImage = 0;
        int nextVideo = 0;
        int i = 0;
        while (i < prompt.length) {
            int token = prompt[i];
            if (token != imageTokenId && token != videoTokenId) {
                out[0][i] = out[1][i] = out[2][i] = pos;
                max = Math.max(max, pos);
                pos++;
                i++;
                continue;
            }
            boolean video = token == videoTokenId;
            int[] grid = video ? videos[nextVideo] : images[nextImage];
            float interval = 1f;
            if (video && tokensPerSecond > 0) {
                interval = tokensPerSecond * (secondPerGridTs == null ? 1f : secondPerGridTs[nextVideo]);
            }
            int frames = grid[0];
            int itemMax = pos;
            int rows = grid[1] / spatialMergeSize;
            int cols = grid[2] / spatialMergeSize;
            for (int f = 0; f < frames; f++) {
                // float32 product then truncation, as torch's (arange(t) * interval).long()
                int temporal = pos + (int) ((float) f * interval);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        if (i >= prompt.length || prompt[i] != token) {
                            throw new IllegalArgumentException((video ? "video " + nextVideo : "image " + nextImage)
                                    + " with grid " + gridString(grid) + " needs " + frames * rows * cols
                                    + " consecutive pad tokens, the run starting before token " + i + " is shorter");
                        }
                        out[0][i] = temporal;
                        out[1][i] = pos + r;
                        out[2][i] = pos + c;
                        itemMax = Math.max(itemMax, Math.max(temporal, Math.max(pos + r, pos + c)));
                        i++;
                    }
                }
            }
            max = Math.max(max, itemMax);
            pos = itemMax + 1;
            if (video) {
                nextVideo++;
            } else {
                nextImage++;
            }
        }
        return new Result(out, max + 1 - prompt.length);
    }

    /** Every pad token must belong to exactly one grid, and every grid must cover at least one. */
    private void checkCount(String kind, int[] prompt, int tokenId, int[][] grids) {
        int inPrompt = 0;
        for (int t : prompt) {
            if (t == tokenId) {
                inPrompt++;
            }
        }
        long fromGrids = 0;
        for (int k = 0; k < grids.length; k++) {
            int[] g = grids[k];
            if (g == null || g.length != 3) {
                throw new IllegalArgumentException(kind + " " + k + " grid must be (t, h, w)");
            }
            long n = tokens(g);
            if (g[0] < 1 || g[1] < 1 || g[2] < 1 || n < 1) {
                throw new IllegalArgumentException(kind + " " + k + " grid " + gridString(g)
                        + " covers no tokens at spatial_merge_size " + spatialMergeSize);
            }
            fromGrids += n;
        }
        if (inPrompt != fromGrids) {
            throw new IllegalArgumentException("the prompt has " + inPrompt + " " + kind + " tokens but the "
                    + grids.length + " " + kind + " grids need " + fromGrids);
        }
    }

    private long tokens(int[] grid) {
        return (long) grid[0] * (grid[1] / spatialMergeSize) * (grid[2] / spatialMergeSize);
    }

    private static String gridString(int[] g) {
        return "(" + g[0] + ", " + g[1] + ", " + g[2] + ")";
    }
}
