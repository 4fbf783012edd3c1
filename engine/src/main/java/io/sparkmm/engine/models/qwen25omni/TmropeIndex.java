package io.sparkmm.engine.models.qwen25omni;

import io.sparkmm.engine.models.RequestPositions;

import java.util.ArrayList;
import java.util.List;

/**
 * TMRoPE: Qwen2.5-Omni's (temporal, height, width) prompt positions, as transformers'
 * {@code Qwen2_5OmniPreTrainedModelForConditionalGeneration.get_rope_index} gives them for one
 * unpadded sequence (and vLLM's {@code MRotaryEmbedding} for Omni).
 *
 * <p>The rules, so a reader can check a case by hand. A counter {@code next} starts at 0; a text
 * token gets (next, next, next) and next += 1. An audio clip's n tokens get next .. next + n - 1 on all
 * three axes (25 a second: audio is linear). An image or video of grid (t, h, w) with merge m starts
 * at s = next: its token (f, r, c) gets (s + T(f), s + r, s + c) with T(f) = (long) (f * g * 25)
 * (float32; g = 1 for images, the video's seconds per temporal patch), and next = the item's largest
 * position + 1. A video with its own audio (use_audio_in_video) is written
 * {@code <|vision_bos|><|audio_bos|> chunks <|audio_eos|><|vision_eos|>}: both begin tokens share one
 * position p, the video and audio tokens are placed as above from s = p + 1 and laid out in chunks of
 * {@link Qwen25OmniConfig#positionsPerChunk()} temporal positions (video chunk 0, audio chunk 0, video
 * chunk 1, ...), and both end tokens share the position after the last chunk's largest one. The
 * rope delta is max(all positions) + 1 - prompt length.
 *
 * <p>As transformers, "the position after" an item is taken from the last segment written (for the
 * interleaved video, its last chunk), not the largest position of the whole item.
 */
public final class TmropeIndex {

    /** One media item of the prompt: where its placeholder run starts and what it is. */
    public sealed interface Item permits Audio, Vision, AudioInVideo {
        int offset();
    }

    /** An audio clip of {@code tokens} {@code <|AUDIO|>} tokens starting at {@code offset}. */
    public record Audio(int offset, int tokens) implements Item {
    }

    /**
     * An image (secondsPerGrid 1) or a video of grid (t, h, w) whose t*h*w/m^2 tokens start at {@code offset}.
     */
    public record Vision(int offset, int t, int h, int w, float secondsPerGrid) implements Item {
    }

    /**
     * A video with its own audio: the run at {@code offset} is audio_bos, the interleaved chunks, audio_eos.
     */
    public record AudioInVideo(int offset, int t, int h, int w, float secondsPerGrid, int audioTokens) implements Item {
    }

    private final int mergeSize;
    private final float positionIdPerSeconds;
    private final int positionsPerChunk;

    public TmropeIndex(int mergeSize, double positionIdPerSeconds, int positionsPerChunk) {
        this.mergeSize = mergeSize;
        this.positionIdPerSeconds = (float) positionIdPerSeconds;
        this.positionsPerChunk = positionsPerChunk;
    }

    /** @param items sorted by offset, runs not overlapping */
    public RequestPositions positions(int promptLength, List<Item> items) {
        int[][] out = new int[3][promptLength];
        int next = 0;
        int max = -1;
        int p = 0;
        for (Item item : items) {
            if (item.offset() < p || item.offset() >= promptLength) {
                throw new IllegalArgumentException("media item at " + item.offset() + " overlaps the one before or lies"
                        + " outside the " + promptLength + "-token prompt");
            }
            for (; p < item.offset(); p++) {
                set(out, p, next, next, next);
                max = Math.max(max, next++);
            }
            if (item instanceof Audio a) {
                require(p + a.tokens() <= promptLength, item, promptLength);
                for (int i = 0; i < a.tokens(); i++, p++) {
                    set(out, p, next, next, next);
                    max = Math.max(max, next++);
                }
            } else if (item instanceof Vision v) {
                int[][] pos = vision(next, v.t(), v.h(), v.w(), v.secondsPerGrid());
                require(p + pos[0].length <= promptLength, item, promptLength);
                int segmentMax = next;
                for (int i = 0; i < pos[0].length; i++, p++) {
                    set(out, p, pos[0][i], pos[1][i], pos[2][i]);
                    segmentMax = Math.max(segmentMax, Math.max(pos[0][i], Math.max(pos[1][i], pos[2][i])));
                }
                max = Math.max(max, segmentMax);
                next = segmentMax + 1;
            } else {
                AudioInVideo av = (AudioInVideo) item;
                // audio_bos shares the position of the vision_bos written just before it
                int bos = next - 1;
                int start = next;
                int[][] video = vision(start, av.t(), av.h(), av.w(), av.secondsPerGrid());
                List<int[]> layout = interleave(video[0], start, av.audioTokens());
                int length = 2 + video[0].length + av.audioTokens();
                require(p + length <= promptLength, item, promptLength);
                set(out, p++, bos, bos, bos);
                int lastSegmentMax = bos;
                for (int[] seg : layout) {
                    int segmentMax = -1;
                    for (int i = seg[1]; i < seg[2]; i++, p++) {
                        int t = seg[0] == 0 ? video[0][i] : start + i;
                        int h = seg[0] == 0 ? video[1][i] : start + i;
                        int w = seg[0] == 0 ? video[2][i] : start + i;
                        set(out, p, t, h, w);
                        segmentMax = Math.max(segmentMax, Math.max(t, Math.max(h, w)));
                    }
                    max = Math.max(max, segmentMax);
                    lastSegmentMax = segmentMax;
                }
                int eos = lastSegmentMax + 1;
                set(out, p++, eos, eos, eos);
                max = Math.max(max, eos);
                // the vision_eos after it takes the same position
                next = eos;
            }
        }
        for (; p < promptLength; p++) {
            set(out, p, next, next, next);
            max = Math.max(max, next++);
        }
        return RequestPositions.sectioned(out, max + 1 - promptLength);
    }

    /**
     * The order of a video's and its audio's tokens: segments {kind (0 video, 1 audio), from, to}, video
     * chunk j then audio chunk j, as the processor writes them and get_rope_index places them.
     */
    public List<int[]> interleave(int[] videoTemporal, int start, int audioTokens) {
        int[] videoRel = new int[videoTemporal.length];
        for (int i = 0; i < videoRel.length; i++) {
            videoRel[i] = videoTemporal[i] - start;
        }
        int[] audioRel = new int[audioTokens];
        for (int i = 0; i < audioTokens; i++) {
            audioRel[i] = i;
        }
        List<int[]> v = chunks(videoRel);
        List<int[]> a = chunks(audioRel);
        List<int[]> out = new ArrayList<>();
        for (int j = 0; j < Math.max(v.size(), a.size()); j++) {
            if (j < v.size()) {
                out.add(new int[] {0, v.get(j)[0], v.get(j)[1]});
            }
            if (j < a.size()) {
                out.add(new int[] {1, a.get(j)[0], a.get(j)[1]});
            }
        }
        return out;
    }

    /**
     * get_chunked_index: [from, to) runs of increasing values, a new run starting at the first value
     * reaching the next multiple of positionsPerChunk (at most one new run per value, as transformers).
     */
    List<int[]> chunks(int[] values) {
        List<int[]> out = new ArrayList<>();
        int from = 0;
        int chunk = 1;
        for (int i = 0; i < values.length; i++) {
            if (values[i] >= (long) chunk * positionsPerChunk) {
                out.add(new int[] {from, i});
                from = i;
                chunk++;
            }
        }
        out.add(new int[] {from, values.length});
        return out;
    }

    /** [3][tokens] positions of a vision item starting at s, in (frame, row, column) token order. */
    int[][] vision(int s, int t, int h, int w, float secondsPerGrid) {
        int rows = h / mergeSize;
        int cols = w / mergeSize;
        int n = t * rows * cols;
        int[][] out = new int[3][n];
        int i = 0;
        for (int f = 0; f < t; f++) {
            // float32 products truncated, as torch's (arange(t) * second_per_grid * position_id_per_seconds).long()
            int temporal = s + (int) ((float) f * secondsPerGrid * positionIdPerSeconds);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++, i++) {
                    out[0][i] = temporal;
                    out[1][i] = s + r;
                    out[2][i] = s + c;
                }
            }
        }
        return out;
    }

    private static void set(int[][] out, int p, int t, int h, int w) {
        out[0][p] = t;
        out[1][p] = h;
        out[2][p] = w;
    }

    private static void require(boolean ok, Item item, int promptLength) {
        if (!ok) {
            throw new IllegalArgumentException(item + " runs past the end of the " + promptLength + "-token prompt");
        }
    }
}
