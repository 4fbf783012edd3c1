package io.sparkmm.engine.scheduler;

import io.sparkmm.engine.encoder.EncoderCacheManager;
import io.sparkmm.engine.kv.BlockHasher;
import io.sparkmm.engine.kv.KvBlockManager;
import io.sparkmm.engine.kv.PrefixHit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Continuous-batching scheduler with one rule, as in vLLM v1: every request's
 * numComputedTokens catches up with its numTokens. Prefill, chunked prefill, prefix hits and
 * decode are the same path; a step is a token budget shared first by running requests (in
 * admission order) and then by waiting ones (FCFS).
 *
 * <p>Multimodal requests also draw on an encoder budget per step and on the encoder cache: a media
 * item whose placeholder range overlaps a chunk is encoded whole in that step unless its output is
 * cached; when the budget or the cache cannot take it, the chunk ends before the item (see
 * {@link EncoderPlanner}).
 *
 * <p>In-flight prefix sharing (on when {@link SchedulerConfig#maxPrefixWaitSteps()} > 0): a waiting
 * request whose next uncached full block is being computed by a request scheduled in this very
 * step is skipped for this step (it keeps its place in the queue; requests behind it may go), so
 * that next step it hits that block instead of computing the same KV in parallel. Rows that ask
 * several questions of one image, submitted together, then compute the image's blocks once. The
 * wait is bounded: only while the block's producer is scheduled (so it makes progress; a producer
 * that finishes, fails, is aborted or preempted drops its in-flight blocks), and at most
 * maxPrefixWaitSteps steps per request. A skipped request never leaves a step empty, since its
 * producer runs in it. The KV it then reuses is what it would have computed itself (full blocks of
 * equal tokens and media, verified key chains), so its tokens are the same either way.
 *
 * <p>Memory pressure is handled by preemption with recompute: the latest admitted running
 * request gives up its blocks and goes back to the head of the waiting queue, keeping its
 * outputs. Its full blocks stay in the prefix cache, so re-admission often hits them.
 *
 * <p>Not thread-safe: one engine loop thread calls schedule / update alternately.
 */
public final class Scheduler {
    private final SchedulerConfig config;
    private final KvBlockManager kv;
    private final EncoderPlanner encoder;
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    /** In admission order; the last one is the preemption victim. */
    private final List<Sequence> running = new ArrayList<>();
    /** Waiting and running requests by id. */
    private final Map<String, Sequence> active = new HashMap<>();
    /** Sequences beyond this many tokens could not hold their KV even with the whole pool. */
    private final int poolCapacityTokens;
    private long preemptions;
    private long prefixWaits;
    /** The last output not yet passed to update; schedule and update must alternate. */
    private SchedulerOutput pending;

    public Scheduler(SchedulerConfig config) {
        this(config, BlockHasher.sha256());
    }

    /** With an explicit block hasher (tests inject weak ones to prove hits are verified). */
    public Scheduler(SchedulerConfig config, BlockHasher hasher) {
        this.config = Objects.requireNonNull(config, "config");
        this.kv = new KvBlockManager(config.numBlocks(), config.blockSize(), config.prefixCaching(), hasher);
        this.poolCapacityTokens = config.numBlocks() * config.blockSize();
        this.encoder = new EncoderPlanner(config.encoderCacheRows());
    }

    public SchedulerConfig config() {
        return config;
    }

    /**
     * Queues a request (FCFS). Throws IllegalArgumentException (and queues nothing) when the
     * prompt is empty, is at least maxModelLen long, needs more blocks than the whole pool for
     * prompt + 1 tokens (it could never produce a token), has extra-key ranges outside the prompt,
     * has a media item with more embedding rows than the encoder budget per step or the whole
     * encoder cache (it could never be encoded), or its id is already queued or running;
     * IllegalStateException when the sequence is not fresh.
     */
    public void add(Sequence seq) {
        Objects.requireNonNull(seq, "seq");
        String id = seq.requestId();
        int n = seq.numPromptTokens();
        if (n == 0) {
            throw new IllegalArgumentException("request " + id + ": empty prompt");
        }
        if (n >= config.maxModelLen()) {
            throw new IllegalArgumentException("request " + id + ": prompt of " + n
                    + " tokens does not fit maxModelLen " + config.maxModelLen() + " (it must be shorter, to leave room for output)");
        }
        int blocks = kv.blocksNeeded(n + 1);
        if (blocks > kv.numBlocks()) {
            throw new IllegalArgumentException("request " + id + ": prompt of " + n + " tokens needs " + blocks
                    + " KV blocks of " + config.blockSize() + " tokens for prompt + 1, but the pool has only " + kv.numBlocks());
        }
        for (ExtraKeyRange r : seq.extraKeys()) {
            if (r.end() > n) {
                throw new IllegalArgumentException("request " + id + ": extra key range [" + r.start() + ", " + r.end()
                        + ") reaches beyond the prompt of " + n + " tokens");
            }
        }
        for (MediaItem m : seq.mediaItems()) {
            String what = "request " + id + ": media item " + m.index() + " (" + m.hash() + ") needs " + m.numEmbeddings()
                    + " encoder rows";
            if (m.numEmbeddings() > config.maxEncoderTokensPerStep()) {
                throw new IllegalArgumentException(what + ", more than the encoder budget of "
                        + config.maxEncoderTokensPerStep() + " rows per step (maxEncoderTokensPerStep)");
            }
            if (m.numEmbeddings() > config.encoderCacheRows()) {
                throw new IllegalArgumentException(what + ", more than the whole encoder cache of "
                        + config.encoderCacheRows() + " rows (encoderCacheRows)");
            }
        }
        if (active.containsKey(id)) {
            throw new IllegalArgumentException("request " + id + " is already queued or running");
        }
        if (seq.status() != SequenceStatus.WAITING || seq.numComputedTokens() != 0 || seq.numOutputTokens() != 0) {
            throw new IllegalStateException("request " + id + " is not a fresh sequence: " + seq);
        }
        active.put(id, seq);
        waiting.addLast(seq);
    }

    /** Plans one step. The result must be passed to {@link #update} before the next schedule. */
    public SchedulerOutput schedule() {
        if (pending != null && !pending.isEmpty()) {
            throw new IllegalStateException("schedule() called again before update() of the previous step");
        }
        int budget = config.maxNumBatchedTokens();
        encoder.beginStep(config.maxEncoderTokensPerStep());
        List<ScheduledChunk> chunks = new ArrayList<>();
        List<String> preempted = new ArrayList<>();

        // Requests with a chunk in this step: the producers worth waiting for.
        Set<String> scheduledNow = new HashSet<>();
        // Running requests first, in admission order.
        int i = 0;
        while (i < running.size() && budget > 0) {
            Sequence seq = running.get(i);
            int start = seq.numComputedTokens();
            EncoderPlanner.Plan plan = encoder.plan(seq, start, tokensThisStep(seq.numTokens() - start, budget));
            int n = plan.numTokens();
            if (n == 0) {
                i++; // blocked at a media item the encoder cannot take this step; the others may go on
                continue;
            }
            boolean fits = false;
            while (true) {
                if (kv.allocate(seq.requestId(), start + n, PrefixHit.none(config.blockSize()))) {
                    fits = true;
                    break;
                }
                // Victims come from the end, i.e. at or after i: nothing already scheduled is undone.
                Sequence victim = running.remove(running.size() - 1);
                preempt(victim);
                preempted.add(victim.requestId());
                if (victim == seq) {
                    break;
                }
            }
            if (!fits) {
                break; // seq was the last running request; nothing follows it
            }
            encoder.commit(seq, plan);
            chunks.add(chunk(seq, start, n, plan));
            scheduledNow.add(seq.requestId());
            budget -= n;
            i++;
        }

        // Then waiting requests, FCFS; a preemption means memory is short, so admit nobody.
        if (preempted.isEmpty()) {
            Iterator<Sequence> queue = waiting.iterator();
            while (queue.hasNext() && running.size() < config.maxNumSeqs() && budget > 0) {
                Sequence seq = queue.next();
                PrefixHit hit = kv.findCachedPrefix(seq);
                if (waitsForInFlightPrefix(seq, hit, scheduledNow)) {
                    continue; // skipped, not blocked: it takes nothing this step, so the next in line may go
                }
                int start = hit.numTokens();
                // Items inside the hit are skipped by the plan: their KV is cached, no encoding needed.
                EncoderPlanner.Plan plan = encoder.plan(seq, start, tokensThisStep(seq.numTokens() - start, budget));
                int n = plan.numTokens();
                // Blocked by the encoder (n == 0) or by KV: keep FCFS order, admit nobody behind it.
                if (n == 0 || !kv.allocate(seq.requestId(), start + n, hit)) {
                    break; // no preemption on behalf of waiting requests
                }
                queue.remove();
                kv.recordPrefixQuery(seq.numTokens(), start);
                kv.planInFlight(seq.requestId(), seq);
                seq.admit(start);
                running.add(seq);
                encoder.commit(seq, plan);
                chunks.add(chunk(seq, start, n, plan));
                scheduledNow.add(seq.requestId());
                budget -= n;
            }
        }

        pending = new SchedulerOutput(chunks, preempted, config.maxNumBatchedTokens() - budget,
                encoder.cache().drainFreed());
        return pending;
    }

    /**
     * After the model ran the step: each chunk's tokens count as computed; chunks that sample get
     * their request's token from {@code sampled} appended; newly full blocks enter the prefix
     * cache. Then requests in {@code finished} are marked FINISHED and their blocks freed. A
     * request that reaches maxModelLen tokens (or more than the pool can hold) is finished here
     * too, since it can never compute another token. Chunks of requests aborted since schedule()
     * are ignored; unknown ids in {@code finished} are ignored.
     */
    public void update(SchedulerOutput output, Map<String, Integer> sampled, Set<String> finished) {
        Objects.requireNonNull(output, "output");
        if (output != pending) {
            throw new IllegalStateException("update() must get the output of the latest schedule(), once");
        }
        // Validate everything first so a bad call changes nothing.
        for (ScheduledChunk c : output.chunks()) {
            Sequence seq = live(c.requestId());
            if (seq == null) {
                continue;
            }
            if (seq.numComputedTokens() != c.startPosition()) {
                throw new IllegalStateException("chunk of " + c.requestId() + " starts at " + c.startPosition()
                        + " but the request has " + seq.numComputedTokens() + " computed tokens");
            }
            if (c.samples() && sampled.get(c.requestId()) == null) {
                throw new IllegalArgumentException("no sampled token for " + c.requestId() + ", whose chunk samples");
            }
        }
        pending = null;
        for (ScheduledChunk c : output.chunks()) {
            Sequence seq = live(c.requestId());
            if (seq == null) {
                continue;
            }
            seq.advance(c.numTokens());
            encoder.releaseComputed(seq);
            if (c.samples()) {
                seq.append(sampled.get(c.requestId()));
            }
            kv.cacheFullBlocks(seq.requestId(), seq, seq.numComputedTokens());
            if (seq.numTokens() >= config.maxModelLen() || seq.numTokens() > poolCapacityTokens) {
                retire(seq, SequenceStatus.FINISHED);
            }
        }
        for (String id : finished) {
            Sequence seq = active.get(id);
            if (seq != null) {
                retire(seq, SequenceStatus.FINISHED);
            }
        }
    }

    /** Cancels a waiting or running request: frees its blocks, status ABORTED. */
    public boolean abort(String requestId) {
        Sequence seq = active.get(requestId);
        if (seq == null) {
            return false;
        }
        retire(seq, SequenceStatus.ABORTED);
        return true;
    }

    /**
     * Forgets the encoder-cache entry of an item whose encoder failed; call after aborting every
     * request that owns it. Returns whether it was tracked.
     */
    public boolean discardEncoderOutput(String hash) {
        return encoder.cache().discard(hash);
    }

    public boolean hasUnfinished() {
        return !active.isEmpty();
    }

    public int numWaiting() {
        return waiting.size();
    }

    public int numRunning() {
        return running.size();
    }

    public SchedulerStats stats() {
        EncoderCacheManager ec = encoder.cache();
        return new SchedulerStats(kv.numBlocks(), kv.numUsedBlocks(), kv.prefixQueryTokens(),
                kv.prefixHitTokens(), preemptions, ec.hits(), ec.misses(), ec.evictions(), encoder.rowsScheduled(),
                ec.usedRows(), ec.capacityRows(), prefixWaits);
    }

    /** For tests in this package: block tables, pool state. */
    KvBlockManager blockManager() {
        return kv;
    }

    /** For tests in this package: the encoder cache bookkeeping. */
    EncoderCacheManager encoderCache() {
        return encoder.cache();
    }

    /** Running requests in admission order (a copy), for tests and diagnostics. */
    List<Sequence> runningSnapshot() {
        return List.copyOf(running);
    }

    /** Waiting requests in queue order (a copy), for tests and diagnostics. */
    List<Sequence> waitingSnapshot() {
        return List.copyOf(waiting);
    }

    /**
     * Whether {@code seq} sits this step out to hit, next step, the block after {@code hit} that a
     * request scheduled in this step is computing. Counts the wait when it does.
     */
    private boolean waitsForInFlightPrefix(Sequence seq, PrefixHit hit, Set<String> scheduledNow) {
        if (seq.numPrefixWaits() >= config.maxPrefixWaitSteps()) {
            return false; // also the switch: 0 steps = never wait
        }
        String producer = kv.inFlightProducer(seq, hit);
        // A producer without a chunk this step (blocked by the encoder) makes no progress to wait for.
        if (producer == null || !scheduledNow.contains(producer)) {
            return false;
        }
        seq.recordPrefixWait();
        prefixWaits++;
        return true;
    }

    private int tokensThisStep(int remaining, int budget) {
        int n = Math.min(remaining, budget);
        int cap = config.longPrefillTokenThreshold();
        return cap > 0 ? Math.min(n, cap) : n;
    }

    private ScheduledChunk chunk(Sequence seq, int start, int n, EncoderPlanner.Plan plan) {
        int end = start + n;
        int bs = config.blockSize();
        int[] table = kv.blockTable(seq.requestId(), kv.blocksNeeded(end));
        int[] slots = new int[n];
        for (int j = 0; j < n; j++) {
            int pos = start + j;
            slots[j] = table[pos / bs] * bs + pos % bs;
        }
        return new ScheduledChunk(seq.requestId(), start, seq.tokenIds(start, end), slots, table,
                end == seq.numTokens(), plan.encode(), EncoderPlanner.mediaIn(seq, start, end));
    }

    private void preempt(Sequence victim) {
        kv.free(victim.requestId());
        // It restarts from zero: items are referenced (or encoded) again when it is rescheduled.
        encoder.releaseAll(victim);
        victim.preempt();
        waiting.addFirst(victim);
        preemptions++;
    }

    private void retire(Sequence seq, SequenceStatus status) {
        if (seq.status() == SequenceStatus.RUNNING) {
            running.remove(seq);
        } else {
            waiting.remove(seq);
        }
        kv.free(seq.requestId());
        encoder.releaseAll(seq);
        active.remove(seq.requestId());
        seq.end(status);
    }

    private Sequence live(String id) {
        Sequence seq = active.get(id);
        return seq != null && seq.status() == SequenceStatus.RUNNING ? seq : null;
    }
}
