package io.sparkmm.engine.kv;

import java.util.HashMap;
import java.util.Map;

/**
 * A fixed pool of KV blocks with reference counts, a free queue and the prefix-cache map.
 *
 * <p>The free queue is an intrusive doubly-linked list over block ids, so a prefix hit can pull
 * a free block out of the middle in O(1). Allocation takes from the head (least recently freed);
 * release appends to the tail. A freed block keeps its cache key until allocation reuses it, so
 * it can still be hit in between; reusing it evicts the key.
 *
 * <p>Not thread-safe: owned by the scheduler thread.
 */
public final class BlockPool {
    private static final int NONE = -1;

    private final int numBlocks;
    private final int[] refCount;
    /** Key of a registered (cached) block, null when the block is not in {@link #cached}. */
    private final BlockKey[] keys;
    private final int[] prev;
    private final int[] next;
    private final boolean[] inFreeQueue;
    private int head = NONE;
    private int tail = NONE;
    private int numFree;
    private final Map<BlockHash, Integer> cached = new HashMap<>();
    private long collisions;

    public BlockPool(int numBlocks) {
        if (numBlocks < 1) {
            throw new IllegalArgumentException("numBlocks must be >= 1, got " + numBlocks);
        }
        this.numBlocks = numBlocks;
        refCount = new int[numBlocks];
        keys = new BlockKey[numBlocks];
        prev = new int[numBlocks];
        next = new int[numBlocks];
        inFreeQueue = new boolean[numBlocks];
        for (int b = 0; b < numBlocks; b++) {
            append(b);
        }
    }

    public int numBlocks() {
        return numBlocks;
    }

    /** Blocks with no owner, cached or not (cached ones are evictable, so they count as free). */
    public int numFree() {
        return numFree;
    }

    public int refCount(int block) {
        return refCount[block];
    }

    /** The key under which the block is registered, or null if it is not in the cache. */
    public BlockKey cachedKey(int block) {
        return keys[block];
    }

    public int numCachedBlocks() {
        return cached.size();
    }

    /** Registrations refused because another block with a different identity had the same hash. */
    public long collisions() {
        return collisions;
    }

    /** The block registered under {@code hash}, or -1. The caller must verify the key. */
    public int lookup(BlockHash hash) {
        Integer b = cached.get(hash);
        return b == null ? NONE : b;
    }

    /**
     * Takes {@code n} blocks from the head of the free queue (least recently freed first), evicting
     * their cache keys, each with ref count 1.
     */
    public int[] allocate(int n) {
        if (n > numFree) {
            throw new IllegalStateException("asked for " + n + " blocks, only " + numFree + " free");
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int b = head;
            unlink(b);
            evict(b);
            refCount[b] = 1;
            out[i] = b;
        }
        return out;
    }

    /** Adds an owner to a block (a prefix hit); a free block leaves the free queue, keeping its key. */
    public void touch(int block) {
        if (refCount[block] == 0) {
            unlink(block);
        }
        refCount[block]++;
    }

    /** Drops one owner; at zero the block goes to the tail of the free queue, keeping its key. */
    public void release(int block) {
        if (refCount[block] <= 0) {
            throw new IllegalStateException("block " + block + " released more often than taken");
        }
        if (--refCount[block] == 0) {
            append(block);
        }
    }

    /**
     * Registers a full, computed block under its key. Returns false (and leaves the block
     * unregistered) when the hash is already taken: either by an equal block (a duplicate computed
     * concurrently; one copy is enough) or by a different one (a collision, counted).
     */
    public boolean register(int block, BlockKey key) {
        if (keys[block] != null) {
            throw new IllegalStateException("block " + block + " is already registered");
        }
        Integer existing = cached.get(key.hash());
        if (existing != null) {
            if (!keys[existing].equals(key)) {
                collisions++;
            }
            return false;
        }
        cached.put(key.hash(), block);
        keys[block] = key;
        return true;
    }

    /** Free blocks from head (next to be reused) to tail; for tests and diagnostics. */
    public int[] freeQueue() {
        int[] out = new int[numFree];
        int i = 0;
        for (int b = head; b != NONE; b = next[b]) {
            out[i++] = b;
        }
        return out;
    }

    private void evict(int block) {
        BlockKey key = keys[block];
        if (key != null) {
            cached.remove(key.hash());
            keys[block] = null;
        }
    }

    private void append(int b) {
        prev[b] = tail;
        next[b] = NONE;
        if (tail == NONE) {
            head = b;
        } else {
            next[tail] = b;
        }
        tail = b;
        inFreeQueue[b] = true;
        numFree++;
    }

    private void unlink(int b) {
        if (!inFreeQueue[b]) {
            throw new IllegalStateException("block " + b + " is not free");
        }
        if (prev[b] == NONE) {
            head = next[b];
        } else {
            next[prev[b]] = next[b];
        }
        if (next[b] == NONE) {
            tail = prev[b];
        } else {
            prev[next[b]] = prev[b];
        }
        inFreeQueue[b] = false;
        numFree--;
    }
}
