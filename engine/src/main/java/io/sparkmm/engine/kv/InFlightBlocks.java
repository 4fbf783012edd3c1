package io.sparkmm.engine.kv;

import java.util.HashMap;
import java.util.Map;

/**
 * Full blocks that a running request is going to compute but has not computed yet, by hash: the
 * prefix cache's view of work in progress. A waiting request whose next block is listed here can
 * wait for it and then hit it, instead of computing the same KV a second time in parallel.
 *
 * <p>Only the first request to plan a hash is listed (a second one computing the same block,
 * e.g. after its wait ran out, is not), and an entry goes when its block is computed or its
 * request lets go of its blocks (finished, aborted, preempted). Entries carry the whole key, so
 * a lookup is verified against the asker's own key chain like a cache hit is.
 *
 * <p>Not thread-safe: owned by the scheduler thread.
 */
final class InFlightBlocks {
    /** One planned block: who computes it and its full identity. */
    record Entry(String requestId, BlockKey key) {
    }

    private final Map<BlockHash, Entry> byHash = new HashMap<>();

    /** Lists the planned keys of {@code requestId}; hashes already listed keep their first producer. */
    void plan(String requestId, Iterable<BlockKey> keys) {
        for (BlockKey k : keys) {
            byHash.putIfAbsent(k.hash(), new Entry(requestId, k));
        }
    }

    /** The block was computed (or will never be, by this request): drop it if this request listed it. */
    void done(String requestId, BlockKey key) {
        Entry e = byHash.get(key.hash());
        if (e != null && e.requestId().equals(requestId) && e.key() == key) {
            byHash.remove(key.hash());
        }
    }

    /** The request that is computing a block equal to {@code wanted} (whole chain compared), or null. */
    String producerOf(BlockKey wanted) {
        Entry e = byHash.get(wanted.hash());
        return e != null && e.key().equals(wanted) ? e.requestId() : null;
    }

    int size() {
        return byHash.size();
    }
}
