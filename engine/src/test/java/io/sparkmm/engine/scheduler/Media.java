package io.sparkmm.engine.scheduler;

import java.util.ArrayList;
import java.util.List;

/** Test helpers for prompts with media placeholders. */
final class Media {
    /** The placeholder token id; every image's range carries the same token ids, as in LLaVA. */
    static final int PLACEHOLDER = 999;

    private Media() {}

    static SchedulerConfig config(int budget, int maxSeqs, int numBlocks, int blockSize, boolean caching,
                                                                int maxModelLen, int threshold, int encoderBudget, int encoderCacheRows) {
        return new SchedulerConfig(budget, maxSeqs, numBlocks, blockSize, caching, maxModelLen, threshold,
                encoderBudget, encoderCacheRows);
    }

    static MediaItem item(int index, String hash, int offset, int length) {
        return new MediaItem(index, hash, offset, length, length);
    }

    /** Text before, then {@code length} placeholders, then text after. */
    static int[] prompt(int before, int length, int after, int seed) {
        int[] p = new int[before + length + after];
        int[] text = Harness.tokens(before + after, seed);
        System.arraycopy(text, 0, p, 0, before);
        java.util.Arrays.fill(p, before, before + length, PLACEHOLDER);
        System.arraycopy(text, before, p, before + length, after);
        return p;
    }

    /** Every chunk of the request, in step order. */
    static List<ScheduledChunk> chunksOf(Harness h, String id) {
        List<ScheduledChunk> out = new ArrayList<>();
        for (SchedulerOutput o : h.history) {
            for (ScheduledChunk c : o.chunks()) {
                if (c.requestId().equals(id)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    /** The request's chunk in the given step, or null. */
    static ScheduledChunk chunkIn(SchedulerOutput out, String id) {
        return out.chunks().stream().filter(c -> c.requestId().equals(id)).findFirst().orElse(null);
    }
}
