package io.sparkmm.engine.scheduler;

import io.sparkmm.engine.encoder.EncoderCacheManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The encoder side of scheduling: which media items a chunk needs encoded, how far the chunk
 * may go given the step's encoder budget and the encoder cache space, and the cache references
 * each request holds. Kept apart from {@link Scheduler} so that the token/KV logic stays readable.
 *
 * <p>A request holds one cache reference per media item from the step that first needs the
 * item's output until the item's placeholder range is fully computed; the reference keeps the
 * output from being evicted while later chunks still merge its rows.
 *
 * <p>Planning is split from committing because the KV allocation that follows may fail: a plan
 * changes nothing, a commit (after the KV allocation succeeded) takes the references.
 */
final class EncoderPlanner {
    /** What one chunk needs from the encoder; {@code numTokens} may be cut below the request. */
    record Plan(int numTokens, List<MediaItem> encode, List<MediaItem> reference) {
        static Plan textOnly(int numTokens) {
            return new Plan(numTokens, List.of(), List.of());
        }
    }

    private final EncoderCacheManager cache;
    private int stepBudget;
    private long rowsScheduled;

    EncoderPlanner(int cacheRows) {
        this.cache = new EncoderCacheManager(cacheRows);
    }

    EncoderCacheManager cache() {
        return cache;
    }

    long rowsScheduled() {
        return rowsScheduled;
    }

    void beginStep(int budgetRows) {
        stepBudget = budgetRows;
    }

    /**
     * The encoder needs of the chunk [start, start + n). Every item overlapping the chunk whose
     * output the request does not hold yet is either referenced (cached) or encoded whole. When the
     * budget or the cache cannot take an item, the chunk is cut to end before the item's offset,
     * which is 0 tokens when the chunk starts inside the item; later items are not looked at.
     */
    Plan plan(Sequence seq, int start, int n) {
        List<MediaItem> media = seq.mediaItems();
        if (media.isEmpty()) {
            return Plan.textOnly(n);
        }
        int end = start + n;
        int budget = stepBudget;
        // Rows the plan allocates, plus rows of unreferenced cached entries it will reference: those
        // stop being evictable, so they count against the space as much as new rows do.
        int demandRows = 0;
        Set<String> planned = new HashSet<>();
        List<MediaItem> encode = new ArrayList<>();
        List<MediaItem> reference = new ArrayList<>();
        for (int i = 0; i < media.size(); i++) {
            MediaItem m = media.get(i);
            if (m.offset() >= end) {
                break; // sorted by offset: nothing later overlaps the chunk
            }
            // Computed already (also a prefix-cache hit past the item), or output held from earlier.
            if (m.end() <= start || seq.holdsEncoderOutput(i)) {
                continue;
            }
            if (planned.contains(m.hash())) {
                reference.add(m); // the same content again in this chunk: one encode serves both
                continue;
            }
            if (cache.has(m.hash())) {
                demandRows += cache.evictableRowsOf(m.hash());
                planned.add(m.hash());
                reference.add(m);
                continue;
            }
            int rows = m.numEmbeddings();
            if (rows > budget || !cache.canAllocate(demandRows + rows)) {
                n = Math.max(0, m.offset() - start);
                break;
            }
            budget -= rows;
            demandRows += rows;
            planned.add(m.hash());
            encode.add(m);
        }
        return new Plan(n, encode, reference);
    }

    /**
     * Takes the plan's references and allocations after the chunk was placed. Cached entries are
     * referenced first so that the allocations cannot evict them.
     */
    void commit(Sequence seq, Plan plan) {
        String id = seq.requestId();
        List<MediaItem> later = new ArrayList<>();
        for (MediaItem m : plan.reference()) {
            if (cache.has(m.hash())) {
                cache.addReference(id, m.hash());
                hold(seq, m);
            } else {
                later.add(m); // encoded by this very plan
            }
        }
        for (MediaItem m : plan.encode()) {
            cache.allocate(id, m.hash(), m.numEmbeddings());
            hold(seq, m);
            stepBudget -= m.numEmbeddings();
            rowsScheduled += m.numEmbeddings();
        }
        for (MediaItem m : later) {
            cache.addReference(id, m.hash());
            hold(seq, m);
        }
    }

    /** Items whose placeholder range overlaps [start, end), for the runner's merge. */
    static List<MediaItem> mediaIn(Sequence seq, int start, int end) {
        List<MediaItem> out = List.of();
        for (MediaItem m : seq.mediaItems()) {
            if (m.offset() >= end) {
                break;
            }
            if (m.overlaps(start, end)) {
                if (out.isEmpty()) {
                    out = new ArrayList<>();
                }
                out.add(m);
            }
        }
        return out;
    }

    /** After the request advanced: outputs of items now fully computed are no longer needed. */
    void releaseComputed(Sequence seq) {
        List<MediaItem> media = seq.mediaItems();
        for (int i = 0; i < media.size(); i++) {
            MediaItem m = media.get(i);
            if (seq.holdsEncoderOutput(i) && m.end() <= seq.numComputedTokens()) {
                cache.release(seq.requestId(), m.hash());
                seq.setHoldsEncoderOutput(i, false);
            }
        }
    }

    /** The request stops (finished, aborted) or restarts from zero (preempted). */
    void releaseAll(Sequence seq) {
        cache.releaseAll(seq.requestId());
        for (int i = 0; i < seq.mediaItems().size(); i++) {
            seq.setHoldsEncoderOutput(i, false);
        }
    }

    private static void hold(Sequence seq, MediaItem m) {
        seq.setHoldsEncoderOutput(seq.mediaItems().indexOf(m), true);
    }
}
