package io.sparkmm.engine.encoder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Bookkeeping of the encoder output cache (pure logic: the tensors live in the engine, keyed by
 * the same hashes). Capacity is counted in embedding rows. Entries are keyed by the content hash
 * of the media item, so requests that carry the same image share one encoder run.
 *
 * <p>Entries are reference-counted per request. A request may hold several references to one
 * hash (the same image twice in a prompt), and each is released separately, so finishing with the
 * first occurrence does not drop the rows the second still needs. An entry whose last reference is
 * released stays cached, because another request may ask for the same item soon; such entries
 * are evicted lazily, least recently used first, only when an allocation needs their space.
 * Evicted hashes are reported once through {@link #drainFreed()} so the engine can drop the
 * tensors.
 *
 * <p>Not thread-safe: owned by the scheduler thread.
 */
public final class EncoderCacheManager {

    private static final class Entry {
        final int rows;
        /** Request id to the number of references that request holds. */
        final Map<String, Integer> refs = new HashMap<>();
        int totalRefs;

        Entry(int rows) {
            this.rows = rows;
        }
    }

    private final int capacityRows;
    private final Map<String, Entry> entries = new HashMap<>();
    /** Unreferenced entries in the order they became unreferenced: the head is evicted first. */
    private final LinkedHashMap<String, Entry> evictable = new LinkedHashMap<>();
    /** Hashes each request references, so releaseAll need not scan every entry. */
    private final Map<String, Map<String, Entry>> byRequest = new HashMap<>();
    private final List<String> freed = new ArrayList<>();
    private int usedRows;
    private int evictableRows;
    private long hits;
    private long misses;
    private long evictions;

    public EncoderCacheManager(int capacityRows) {
        if (capacityRows < 1) {
            throw new IllegalArgumentException("encoder cache capacity must be >= 1 row, got " + capacityRows);
        }
        this.capacityRows = capacityRows;
    }

    public int capacityRows() {
        return capacityRows;
    }

    /** Whether the item's encoder output is cached (referenced or not). */
    public boolean has(String hash) {
        return entries.containsKey(hash);
    }

    /** Whether {@code rows} new rows fit, counting the space of unreferenced entries as free. */
    public boolean canAllocate(int rows) {
        return rows <= capacityRows - usedRows + evictableRows;
    }

    /**
     * Rows that would stop being evictable if the cached entry got a reference: its rows when it is
     * cached and unreferenced, else 0. Lets a caller plan references and allocations together.
     */
    public int evictableRowsOf(String hash) {
        Entry e = evictable.get(hash);
        return e == null ? 0 : e.rows;
    }

    /**
     * Reserves {@code rows} rows for an item about to be encoded, referenced once by the request
     * (a cache miss). Evicts unreferenced entries, least recently used first, as needed.
     *
     * @throws IllegalStateException when the hash is already cached (use addReference) or the
     *     space is not there ({@link #canAllocate} was not checked)
     */
    public void allocate(String requestId, String hash, int rows) {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(hash, "hash");
        if (rows < 1) {
            throw new IllegalArgumentException("an encoder cache entry needs >= 1 row, got " + rows);
        }
        if (entries.containsKey(hash)) {
            throw new IllegalStateException("encoder output " + hash + " is already cached; reference it instead");
        }
        if (!canAllocate(rows)) {
            throw new IllegalStateException("no room for " + rows + " encoder rows of " + hash + ": "
                + usedRows + " of " + capacityRows + " used, " + evictableRows + " evictable");
        }
        Iterator<Map.Entry<String, Entry>> lru = evictable.entrySet().iterator();
        while (capacityRows - usedRows < rows) {
            Map.Entry<String, Entry> victim = lru.next();
            lru.remove();
            entries.remove(victim.getKey());
            usedRows -= victim.getValue().rows;
            evictableRows -= victim.getValue().rows;
            freed.add(victim.getKey());
            evictions++;
        }
        Entry e = new Entry(rows);
        entries.put(hash, e);
        usedRows += rows;
        misses++;
        reference(requestId, hash, e);
    }

    /** One more reference by the request to a cached entry (a cache hit: no encoding needed). */
    public void addReference(String requestId, String hash) {
        Objects.requireNonNull(requestId, "requestId");
        Entry e = entries.get(hash);
        if (e == null) {
            throw new IllegalStateException("encoder output " + hash + " is not cached");
        }
        if (e.totalRefs == 0) {
            evictable.remove(hash);
            evictableRows -= e.rows;
        }
        hits++;
        reference(requestId, hash, e);
    }

    /** Drops one of the request's references; the entry stays cached (evictable) at zero. */
    public void release(String requestId, String hash) {
        Entry e = entries.get(hash);
        Integer n = e == null ? null : e.refs.get(requestId);
        if (n == null) {
            throw new IllegalStateException("request " + requestId + " holds no reference to encoder output " + hash);
        }
        if (n == 1) {
            e.refs.remove(requestId);
            Map<String, Entry> held = byRequest.get(requestId);
            held.remove(hash);
            if (held.isEmpty()) {
                byRequest.remove(requestId);
            }
        } else {
            e.refs.put(requestId, n - 1);
        }
        unreference(hash, e, 1);
    }

    /** Drops every reference the request holds (finished, aborted or preempted). */
    public void releaseAll(String requestId) {
        Map<String, Entry> held = byRequest.remove(requestId);
        if (held == null) {
            return;
        }
        for (Map.Entry<String, Entry> h : held.entrySet()) {
            Entry e = h.getValue();
            unreference(h.getKey(), e, e.refs.remove(requestId));
        }
    }

    /**
     * Forgets an entry whose encoder output never came to be (its encoder failed), so the next
     * request with that item encodes it again instead of trusting a cache that holds nothing. Every
     * request that referenced it must have released it (they were failed).
     *
     * @return whether an entry was removed
     */
    public boolean discard(String hash) {
        Entry e = entries.get(hash);
        if (e == null) {
            return false;
        }
        if (e.totalRefs > 0) {
            throw new IllegalStateException("encoder output " + hash + " is still referenced by " + e.refs.keySet());
        }
        entries.remove(hash);
        evictable.remove(hash);
        evictableRows -= e.rows;
        usedRows -= e.rows;
        return true;
    }

    /** Hashes evicted since the last call, in eviction order; the engine drops their tensors. */
    public List<String> drainFreed() {
        List<String> out = List.copyOf(freed);
        freed.clear();
        return out;
    }

    /** References to the entry over all requests; 0 when unreferenced or not cached. */
    public int refCount(String hash) {
        Entry e = entries.get(hash);
        return e == null ? 0 : e.totalRefs;
    }

    /** Rows of all cached entries, referenced or not. */
    public int usedRows() {
        return usedRows;
    }

    public int numEntries() {
        return entries.size();
    }

    /** References to entries that were already cached (cumulative). */
    public long hits() {
        return hits;
    }

    /** Allocations, i.e. items that had to be encoded (cumulative). */
    public long misses() {
        return misses;
    }

    /** Entries evicted to make room (cumulative). */
    public long evictions() {
        return evictions;
    }

    private void reference(String requestId, String hash, Entry e) {
        e.refs.merge(requestId, 1, Integer::sum);
        e.totalRefs++;
        byRequest.computeIfAbsent(requestId, k -> new HashMap<>()).put(hash, e);
    }

    private void unreference(String hash, Entry e, int count) {
        e.totalRefs -= count;
        if (e.totalRefs == 0) {
            // Appended at the tail: the most recently used of the evictable entries.
            evictable.put(hash, e);
            evictableRows += e.rows;
        }
    }
}
