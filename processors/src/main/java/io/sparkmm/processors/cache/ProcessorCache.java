package io.sparkmm.processors.cache;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A byte-bounded, least-recently-used cache of processed media items, shared by every task of
 * a JVM. Processing runs in the caller's thread; when several threads ask for the same missing
 * item at once, one computes it and the others wait for that result instead of repeating it.
 * A failed computation is not cached (the next caller retries and gets its own error).
 */
public final class ProcessorCache {

    private final long maxBytes;
    private final LinkedHashMap<String, ProcessedItem> lru = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, CompletableFuture<ProcessedItem>> inFlight = new ConcurrentHashMap<>();
    private long bytes;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong evictions = new AtomicLong();

    /** @param maxBytes the bound; 0 disables caching (every call computes) */
    public ProcessorCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("processor cache size must be >= 0 bytes, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /** The cached item for {@code hash}, computing and caching it on a miss. */
    public ProcessedItem get(String hash, Supplier<ProcessedItem> compute) {
        synchronized (this) {
            ProcessedItem cached = lru.get(hash);
            if (cached != null) {
                hits.incrementAndGet();
                return cached;
            }
        }
        CompletableFuture<ProcessedItem> mine = new CompletableFuture<>();
        CompletableFuture<ProcessedItem> other = inFlight.putIfAbsent(hash, mine);
        if (other != null) {
            hits.incrementAndGet();
            try {
                return other.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
        }
        misses.incrementAndGet();
        try {
            ProcessedItem item = compute.get();
            put(hash, item);
            mine.complete(item);
            return item;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(hash, mine);
        }
    }

    private synchronized void put(String hash, ProcessedItem item) {
        if (item.bytes() > maxBytes) {
            return;
        }
        ProcessedItem old = lru.put(hash, item);
        if (old != null) {
            bytes -= old.bytes();
        }
        bytes += item.bytes();
        Iterator<Map.Entry<String, ProcessedItem>> it = lru.entrySet().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            Map.Entry<String, ProcessedItem> eldest = it.next();
            bytes -= eldest.getValue().bytes();
            it.remove();
            evictions.incrementAndGet();
        }
    }

    public synchronized long bytes() {
        return bytes;
    }

    public synchronized int size() {
        return lru.size();
    }

    public long hits() {
        return hits.get();
    }

    public long misses() {
        return misses.get();
    }

    public long evictions() {
        return evictions.get();
    }
}
