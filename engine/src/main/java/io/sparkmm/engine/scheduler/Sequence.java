package io.sparkmm.engine.scheduler;

import io.sparkmm.engine.kv.BlockExtraKey;
import io.sparkmm.engine.kv.TokenSequence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Scheduler-owned mutable state of one request. The engine creates it and reads it; only the
 * scheduler (this package) changes it.
 */
public final class Sequence implements TokenSequence {
    /** Canonical order, so that the same media listed in another order hashes the same. */
    private static final Comparator<ExtraKeyRange> RANGE_ORDER = Comparator.comparingInt(ExtraKeyRange::start)
            .thenComparingInt(ExtraKeyRange::end).thenComparing(ExtraKeyRange::key);

    private final String requestId;
    private final int numPromptTokens;
    private final String cacheSalt;
    private final List<ExtraKeyRange> extraKeys;
    private final List<MediaItem> media;
    /** Per media item: whether this request holds an encoder cache reference to its output. */
    private final boolean[] encoderHeld;
    private final long arrivalOrder;
    private int[] tokens;
    private int numTokens;
    private int numComputedTokens;
    private int numCachedTokens;
    private int numPreemptions;
    private int numPrefixWaits;
    private SequenceStatus status = SequenceStatus.WAITING;

    /** A request without media items; {@code extraKeys} only separate prefix-cache blocks. */
    public Sequence(String requestId, int[] promptTokenIds, String cacheSalt, List<ExtraKeyRange> extraKeys,
                                    long arrivalOrder) {
        this(requestId, promptTokenIds, cacheSalt, extraKeys, List.of(), arrivalOrder);
    }

    /**
     * A request with media items. Each item's placeholder range also becomes an extra key (its
     * hash) of the prefix-cache blocks it overlaps, so a cached prefix never mixes two images that
     * share placeholder tokens.
     *
     * @throws IllegalArgumentException when an item's range reaches beyond the prompt, items are
     *     not sorted by offset, ranges overlap, or two items share an index
     */
    public Sequence(String requestId, int[] promptTokenIds, List<MediaItem> media, String cacheSalt,
                                    long arrivalOrder) {
        this(requestId, promptTokenIds, cacheSalt, List.of(), media, arrivalOrder);
    }

    private Sequence(String requestId, int[] promptTokenIds, String cacheSalt, List<ExtraKeyRange> extraKeys,
                                      List<MediaItem> media, long arrivalOrder) {
        this.requestId = Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(promptTokenIds, "promptTokenIds");
        this.numPromptTokens = promptTokenIds.length;
        // Room for some outputs up front; grows by doubling.
        this.tokens = Arrays.copyOf(promptTokenIds, Math.max(8, promptTokenIds.length + 16));
        this.numTokens = promptTokenIds.length;
        this.cacheSalt = cacheSalt;
        this.media = validMedia(requestId, promptTokenIds.length, Objects.requireNonNull(media, "media"));
        this.encoderHeld = new boolean[this.media.size()];
        List<ExtraKeyRange> sorted = new ArrayList<>(Objects.requireNonNull(extraKeys, "extraKeys"));
        for (MediaItem m : this.media) {
            sorted.add(new ExtraKeyRange(m.offset(), m.end(), m.hash()));
        }
        sorted.sort(RANGE_ORDER);
        this.extraKeys = List.copyOf(sorted);
        this.arrivalOrder = arrivalOrder;
    }

    public String requestId() {
        return requestId;
    }

    public int numPromptTokens() {
        return numPromptTokens;
    }

    /** Prompt plus output tokens. */
    @Override
    public int numTokens() {
        return numTokens;
    }

    @Override
    public int tokenAt(int position) {
        if (position < 0 || position >= numTokens) {
            throw new IndexOutOfBoundsException("position " + position + " of " + numTokens + " tokens");
        }
        return tokens[position];
    }

    public int[] allTokenIds() {
        return Arrays.copyOf(tokens, numTokens);
    }

    /** Tokens at [start, end), a copy. */
    public int[] tokenIds(int start, int end) {
        if (start < 0 || end > numTokens || start > end) {
            throw new IndexOutOfBoundsException("[" + start + ", " + end + ") of " + numTokens + " tokens");
        }
        return Arrays.copyOfRange(tokens, start, end);
    }

    public int numOutputTokens() {
        return numTokens - numPromptTokens;
    }

    public int[] outputTokenIds() {
        return Arrays.copyOfRange(tokens, numPromptTokens, numTokens);
    }

    public int numComputedTokens() {
        return numComputedTokens;
    }

    /** Prefix-cache hit tokens found when the request was (last) admitted. */
    public int numCachedTokens() {
        return numCachedTokens;
    }

    public int numPreemptions() {
        return numPreemptions;
    }

    /** Steps this request sat out waiting for a prefix block another request was computing. */
    public int numPrefixWaits() {
        return numPrefixWaits;
    }

    public SequenceStatus status() {
        return status;
    }

    public long arrivalOrder() {
        return arrivalOrder;
    }

    @Override
    public String cacheSalt() {
        return cacheSalt;
    }

    public List<ExtraKeyRange> extraKeys() {
        return extraKeys;
    }

    /** Media items sorted by offset, ranges disjoint; empty for a text-only request. */
    public List<MediaItem> mediaItems() {
        return media;
    }

    @Override
    public List<BlockExtraKey> extraKeysIn(int start, int end) {
        List<BlockExtraKey> out = List.of();
        for (ExtraKeyRange r : extraKeys) {
            if (r.start() >= end) {
                break; // sorted by start: no later range can overlap
            }
            if (r.end() > start) {
                if (out.isEmpty()) {
                    out = new ArrayList<>();
                }
                out.add(new BlockExtraKey(r.key(), r.start() - start));
            }
        }
        return out;
    }

    // ---- mutations, scheduler only ----

    void admit(int cachedTokens) {
        status = SequenceStatus.RUNNING;
        numComputedTokens = cachedTokens;
        numCachedTokens = cachedTokens;
    }

    void recordPrefixWait() {
        numPrefixWaits++;
    }

    void advance(int computed) {
        numComputedTokens += computed;
    }

    void append(int token) {
        if (numTokens == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[numTokens++] = token;
    }

    /** Preemption by recompute: the KV is gone, the tokens (outputs included) are kept. */
    void preempt() {
        status = SequenceStatus.WAITING;
        numComputedTokens = 0;
        numPreemptions++;
    }

    boolean holdsEncoderOutput(int item) {
        return encoderHeld[item];
    }

    void setHoldsEncoderOutput(int item, boolean held) {
        encoderHeld[item] = held;
    }

    void end(SequenceStatus finalStatus) {
        status = finalStatus;
    }

    private static List<MediaItem> validMedia(String requestId, int promptLength, List<MediaItem> media) {
        List<MediaItem> items = List.copyOf(media);
        Set<Integer> indexes = new HashSet<>();
        int prevEnd = 0;
        for (int i = 0; i < items.size(); i++) {
            MediaItem m = items.get(i);
            String what = "request " + requestId + ": media item " + m.index() + " (" + m.hash() + ") at ["
                    + m.offset() + ", " + m.end() + ")";
            if (m.end() > promptLength) {
                throw new IllegalArgumentException(what + " reaches beyond the prompt of " + promptLength + " tokens");
            }
            // Sorted and disjoint is what lets the scheduler stop at the first item past a chunk.
            if (i > 0 && m.offset() < prevEnd) {
                throw new IllegalArgumentException(what + " overlaps or precedes the previous item, which ends at "
                        + prevEnd + " (items must be sorted by offset and disjoint)");
            }
            if (!indexes.add(m.index())) {
                throw new IllegalArgumentException(what + " repeats index " + m.index());
            }
            prevEnd = m.end();
        }
        return items;
    }

    @Override
    public String toString() {
        return "Sequence[" + requestId + " " + status + " computed " + numComputedTokens + "/" + numTokens + "]";
    }
}
