package io.sparkmm.engine.models.qwen2vl;

import java.util.ArrayList;
import java.util.List;

/**
 * Where each patch of one item sits for the vision tower's attention, and which patches attend to
 * each other. Rows of pixel_values come in merge-window order: frame, then each mergeSize x
 * mergeSize block of patches ("unit", one language-model token after the merger) in row-major
 * block order, then the patches inside the block.
 *
 * <p>Qwen2-VL attends within each frame. Qwen2.5-VL first reorders the units window by window
 * (windows of {@code window} x {@code window} units, row-major, the ones at the right and bottom
 * edges smaller), attends within each window in most blocks and within each frame in the
 * full-attention blocks, then restores the order after the merger: transformers'
 * {@code get_window_index} with its padded windows dropped when empty.
 *
 * @param unitOrder     unitOrder[i] = the original index of the unit at position i in attention order
 * @param windowLengths rows (patches) of each window, in attention order
 * @param frameLengths  rows of each frame (every frame is h * w patches)
 * @param heightPos     per row in attention order: the patch's row in its frame (rotary position)
 * @param widthPos      per row in attention order: the patch's column in its frame
 */
record VisionWindows(int[] unitOrder, int[] windowLengths, int[] frameLengths, int[] heightPos, int[] widthPos) {

    /** Qwen2-VL: original order, one attention segment per frame. */
    static VisionWindows frames(int t, int h, int w, int merge) {
        int units = t * (h / merge) * (w / merge);
        int[] order = new int[units];
        for (int i = 0; i < units; i++) {
            order[i] = i;
        }
        return build(order, new int[0], t, h, w, merge);
    }

    /** Qwen2.5-VL: units regrouped by windows of {@code window} x {@code window} units. */
    static VisionWindows windowed(int t, int h, int w, int merge, int window) {
        int lh = h / merge;
        int lw = w / merge;
        int wh = (lh + window - 1) / window;
        int ww = (lw + window - 1) / window;
        int[] order = new int[t * lh * lw];
        List<Integer> lengths = new ArrayList<>();
        int next = 0;
        for (int f = 0; f < t; f++) {
            for (int by = 0; by < wh; by++) {
                for (int bx = 0; bx < ww; bx++) {
                    int count = 0;
                    for (int y = by * window; y < Math.min(lh, (by + 1) * window); y++) {
                        for (int x = bx * window; x < Math.min(lw, (bx + 1) * window); x++) {
                            order[next++] = f * lh * lw + y * lw + x;
                            count++;
                        }
                    }
                    lengths.add(count * merge * merge);
                }
            }
        }
        return build(order, lengths.stream().mapToInt(Integer::intValue).toArray(), t, h, w, merge);
    }

    private static VisionWindows build(int[] order, int[] windows, int t, int h, int w, int merge) {
        int unit = merge * merge;
        int lw = w / merge;
        int perFrame = (h / merge) * lw;
        int[] hp = new int[order.length * unit];
        int[] wp = new int[order.length * unit];
        for (int i = 0; i < order.length; i++) {
            int inFrame = order[i] % perFrame;
            int by = inFrame / lw;
            int bx = inFrame % lw;
            for (int j = 0; j < unit; j++) {
                hp[i * unit + j] = by * merge + j / merge;
                wp[i * unit + j] = bx * merge + j % merge;
            }
        }
        int[] frames = new int[t];
        java.util.Arrays.fill(frames, h * w);
        return new VisionWindows(order, windows, frames, hp, wp);
    }

    boolean reordered() {
        return windowLengths.length > 0;
    }
}
