package io.sparkmm.engine.kv;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Per-request block tables over a {@link BlockPool}, plus the prefix cache: lookup of a
 * request's cached leading blocks, and registration of blocks as computation fills them.
 *
 * <p>Blocks of a request are cached when their last token has been computed, whether those
 * tokens came from the prompt or were generated, so a preempted request (or a later one that
 * continues a conversation) can reuse them. Only full blocks are cached, which is what makes
 * block-granular reuse safe: a partially filled block would still be written to.
 *
 * <p>Blocks a running request has yet to compute are listed as in flight once it is admitted
 * ({@link #planInFlight}), so a waiting request can find out that its next block is being computed
 * right now ({@link #inFlightProducer}) and wait for it rather than compute it again.
 *
 * <p>Not thread-safe: owned by the scheduler thread.
 */
public final class KvBlockManager {
    private final int blockSize;
    private final boolean prefixCaching;
    private final BlockHasher hasher;
    private final BlockPool pool;
    private final Map<String, RequestBlocks> requests = new HashMap<>();
    private final InFlightBlocks inFlight = new InFlightBlocks();
    private long prefixQueryTokens;
    private long prefixHitTokens;
    private long verificationFailures;

    /** Blocks held by one request and the keys of its leading registered-or-hit full blocks. */
    private static final class RequestBlocks {
        int[] blocks = new int[4];
        int size;
        /** Keys of blocks [0, keys.size()): those hit at admission plus those cached since. */
        final List<BlockKey> keys = new ArrayList<>();
        /**
         * Keys of the full blocks after {@link #keys} that the request is going to compute, planned at
         * admission; the head is block keys.size(). Hashed once: registration takes them from here.
         */
        final ArrayDeque<BlockKey> planned = new ArrayDeque<>();

        void add(int block) {
            if (size == blocks.length) {
                blocks = Arrays.copyOf(blocks, size * 2);
            }
            blocks[size++] = block;
        }
    }

    public KvBlockManager(int numBlocks, int blockSize, boolean prefixCaching, BlockHasher hasher) {
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
        this.blockSize = blockSize;
        this.prefixCaching = prefixCaching;
        this.hasher = Objects.requireNonNull(hasher, "hasher");
        this.pool = new BlockPool(numBlocks);
    }

    public int blockSize() {
        return blockSize;
    }

    public int numBlocks() {
        return pool.numBlocks();
    }

    /** Blocks needed to hold {@code numTokens} tokens. */
    public int blocksNeeded(int numTokens) {
        return (numTokens + blockSize - 1) / blockSize;
    }

    /**
     * The request's cached leading full blocks. At most {@code numTokens - 1} tokens may come from
     * the cache: the last token must be computed so that there are logits to sample from. Every
     * candidate is verified against the request's own key chain; the first mismatch (a hash
     * collision) or miss ends the hit. Takes no references: pass the result to
     * {@link #allocate(String, int, PrefixHit)} before anything else touches the pool.
     */
    public PrefixHit findCachedPrefix(TokenSequence seq) {
        if (!prefixCaching || seq.numTokens() < 1) {
            return PrefixHit.none(blockSize);
        }
        int maxBlocks = (seq.numTokens() - 1) / blockSize;
        List<BlockKey> keys = new ArrayList<>();
        int[] blocks = new int[maxBlocks];
        BlockKey parent = null;
        for (int i = 0; i < maxBlocks; i++) {
            BlockKey wanted = keyOf(seq, i, parent);
            int b = pool.lookup(wanted.hash());
            if (b < 0) {
                break;
            }
            BlockKey stored = pool.cachedKey(b);
            if (!stored.equals(wanted)) {
                verificationFailures++;
                break;
            }
            blocks[i] = b;
            keys.add(stored);
            // Continue from the stored key so the next comparison's parent check is a reference check.
            parent = stored;
        }
        return new PrefixHit(Arrays.copyOf(blocks, keys.size()), keys, blockSize);
    }

    /**
     * Makes the request hold enough blocks for {@code numTokens} tokens. A non-empty {@code hit}
     * is only allowed for a request that holds no blocks yet (admission); its blocks become the
     * first entries of the table. Returns false and changes nothing when the free blocks (minus
     * free hit blocks, which the hit will take) cannot cover the rest.
     */
    public boolean allocate(String requestId, int numTokens, PrefixHit hit) {
        RequestBlocks rb = requests.get(requestId);
        int have = rb == null ? 0 : rb.size;
        int[] hitBlocks = hit.blocks();
        if (hitBlocks.length > 0 && have > 0) {
            throw new IllegalStateException("prefix hit for " + requestId + " which already holds blocks");
        }
        List<BlockKey> hitKeys = hit.keys();
        int hitBlocksThatAreFree = 0;
        for (int i = 0; i < hitBlocks.length; i++) {
            if (pool.cachedKey(hitBlocks[i]) != hitKeys.get(i)) {
                throw new IllegalStateException("stale prefix hit for " + requestId + ": block "
                        + hitBlocks[i] + " was evicted since the lookup");
            }
            if (pool.refCount(hitBlocks[i]) == 0) {
                hitBlocksThatAreFree++;
            }
        }
        int newBlocks = Math.max(0, blocksNeeded(numTokens) - have - hitBlocks.length);
        if (newBlocks > pool.numFree() - hitBlocksThatAreFree) {
            return false;
        }
        if (rb == null) {
            rb = new RequestBlocks();
            requests.put(requestId, rb);
        }
        // Touch hits before allocating so that allocation cannot evict them.
        for (int b : hitBlocks) {
            pool.touch(b);
            rb.add(b);
        }
        rb.keys.addAll(hitKeys);
        for (int b : pool.allocate(newBlocks)) {
            rb.add(b);
        }
        return true;
    }

    /**
     * Registers the request's blocks that became full now that {@code numComputedTokens} tokens
     * are computed. Call after every step that advanced the request.
     */
    public void cacheFullBlocks(String requestId, TokenSequence seq, int numComputedTokens) {
        if (!prefixCaching) {
            return;
        }
        RequestBlocks rb = requests.get(requestId);
        if (rb == null) {
            return;
        }
        int full = Math.min(numComputedTokens / blockSize, rb.size);
        for (int i = rb.keys.size(); i < full; i++) {
            BlockKey key = rb.planned.isEmpty() ? keyOf(seq, i, i == 0 ? null : rb.keys.get(i - 1)) : rb.planned.pollFirst();
            // A refused registration (duplicate or collision) just leaves the block private.
            pool.register(rb.blocks[i], key);
            rb.keys.add(key);
            inFlight.done(requestId, key);
        }
    }

    /**
     * Lists the full blocks of the request's known tokens that it has not computed (nor hit) as in
     * flight. Call once, right after the admission's {@link #allocate}. Tokens of a block never
     * change once known, so the keys planned here are the keys the blocks are registered under.
     */
    public void planInFlight(String requestId, TokenSequence seq) {
        RequestBlocks rb = requests.get(requestId);
        if (!prefixCaching || rb == null || !rb.planned.isEmpty()) {
            return;
        }
        BlockKey parent = rb.keys.isEmpty() ? null : rb.keys.get(rb.keys.size() - 1);
        for (int i = rb.keys.size(); i < seq.numTokens() / blockSize; i++) {
            parent = keyOf(seq, i, parent);
            rb.planned.addLast(parent);
        }
        inFlight.plan(requestId, rb.planned);
    }

    /**
     * The running request that is computing the block that would extend {@code hit} for
     * {@code seq}, or null when none is (or that block could not be served from the cache anyway,
     * being the one holding the last token). Verified like a hit: the whole key chain must match.
     */
    public String inFlightProducer(TokenSequence seq, PrefixHit hit) {
        int next = hit.numBlocks();
        if (!prefixCaching || inFlight.size() == 0 || next >= (seq.numTokens() - 1) / blockSize) {
            return null;
        }
        List<BlockKey> hitKeys = hit.keys();
        return inFlight.producerOf(keyOf(seq, next, hitKeys.isEmpty() ? null : hitKeys.get(hitKeys.size() - 1)));
    }

    /** Blocks listed as in flight; for tests and diagnostics. */
    public int numInFlightBlocks() {
        return inFlight.size();
    }

    /**
     * Releases all blocks of the request, last block first: the free queue is LRU, so the tail of
     * a prompt (least likely to be shared) is reused before its head.
     */
    public void free(String requestId) {
        RequestBlocks rb = requests.remove(requestId);
        if (rb == null) {
            return;
        }
        // Its uncomputed blocks never will be (by it): whoever waits for them must stop waiting.
        for (BlockKey k : rb.planned) {
            inFlight.done(requestId, k);
        }
        for (int i = rb.size - 1; i >= 0; i--) {
            pool.release(rb.blocks[i]);
        }
    }

    /** Counts one admission's prefix query for stats (tokens asked about, tokens found). */
    public void recordPrefixQuery(int queryTokens, int hitTokens) {
        if (prefixCaching) {
            prefixQueryTokens += queryTokens;
            prefixHitTokens += hitTokens;
        }
    }

    /** The request's block ids (a copy); empty when it holds none. */
    public int[] blockTable(String requestId) {
        RequestBlocks rb = requests.get(requestId);
        return rb == null ? new int[0] : Arrays.copyOf(rb.blocks, rb.size);
    }

    /** The first {@code n} block ids of the request (a copy). */
    public int[] blockTable(String requestId, int n) {
        RequestBlocks rb = requests.get(requestId);
        if (rb == null || n > rb.size) {
            throw new IllegalStateException(requestId + " holds fewer than " + n + " blocks");
        }
        return Arrays.copyOf(rb.blocks, n);
    }

    public int numFreeBlocks() {
        return pool.numFree();
    }

    public int numUsedBlocks() {
        return pool.numBlocks() - pool.numFree();
    }

    public long prefixQueryTokens() {
        return prefixQueryTokens;
    }

    public long prefixHitTokens() {
        return prefixHitTokens;
    }

    /** Hits refused because the cached block's identity differed from the request's. */
    public long verificationFailures() {
        return verificationFailures;
    }

    /** Read access for tests and diagnostics. */
    public BlockPool pool() {
        return pool;
    }

    private BlockKey keyOf(TokenSequence seq, int blockIndex, BlockKey parent) {
        int start = blockIndex * blockSize;
        int[] tokens = new int[blockSize];
        for (int j = 0; j < blockSize; j++) {
            tokens[j] = seq.tokenAt(start + j);
        }
        String salt = blockIndex == 0 ? seq.cacheSalt() : null;
        return BlockKey.of(hasher, parent, tokens, seq.extraKeysIn(start, start + blockSize), salt);
    }
}
