package io.sparkmm.engine;

import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.engine.runner.ModelRunner;
import io.sparkmm.engine.runner.StepInputs;
import io.sparkmm.engine.scheduler.MediaItem;
import io.sparkmm.engine.scheduler.ScheduledChunk;
import io.sparkmm.engine.scheduler.Scheduler;
import io.sparkmm.engine.scheduler.SchedulerConfig;
import io.sparkmm.engine.scheduler.SchedulerOutput;
import io.sparkmm.engine.scheduler.SchedulerStats;
import io.sparkmm.engine.scheduler.Sequence;
import io.sparkmm.kernels.KvCache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching over a paged KV cache, vLLM v1 style. Any thread may {@link #submit}; one
 * loop thread owns the scheduler, the model and every request's state, so none of those need
 * locks. Each step: admit new requests and cancellations, schedule (decodes and prefill chunks
 * under one token budget), run one forward pass, sample, check stops, and complete the futures
 * of finished requests. A bad request fails alone; the loop keeps serving the others: an item
 * whose encoder fails fails the requests that own it, and a forward pass that fails is re-run on
 * halves of its batch until the request that breaks it stands alone (every op is per row, so the
 * others get exactly the tokens they would have had).
 */
public final class Engine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** How long {@link #close()} waits for a running step before it leaves the KV pool to the collector. */
    static final long CLOSE_WAIT_MILLIS = 60_000;

    private final LoadedModel loaded;
    private final EngineConfig config;
    private final KvCache kvCache;
    private final Scheduler scheduler;
    private final ModelRunner runner;
    private final int maxModelLen;
    private final Thread loopThread;
    private final ConcurrentLinkedQueue<RequestState> incoming = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> cancellations = new ConcurrentLinkedQueue<>();
    private final Map<String, RequestState> active = new HashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Object wake = new Object();
    private final long startNanos = System.nanoTime();
    private volatile boolean closing;
    private volatile EngineMetrics metrics;

    // counters written by the loop thread only
    private long steps;
    private long scheduledTokens;
    private long generatedTokens;
    private long promptTokens;
    private long finished;
    private long failed;
    private int maxRunningSeqs;
    private int kvBlocksPeak;

    public Engine(LoadedModel loaded, EngineConfig config) {
        this.loaded = loaded;
        this.config = config;
        FamilyModel family = loaded.model();
        DecoderModel model = family.languageModel();
        this.maxModelLen = model.config().maxPositionEmbeddings();
        int blocks = KvPoolSizing.numBlocks(config, model, maxModelLen, model.backend().memoryBudget());
        this.kvCache = model.allocateKvCache(blocks, config.blockSize(), config.kvCacheDtype());
        SchedulerConfig schedulerConfig = new SchedulerConfig(config.maxNumBatchedTokens(), config.maxNumSeqs(), blocks,
                config.blockSize(), config.prefixCaching(), maxModelLen, config.longPrefillTokenThreshold())
                .withMaxPrefixWaitSteps(config.prefixWait() ? SchedulerConfig.DEFAULT_MAX_PREFIX_WAIT_STEPS : 0);
        if (config.encoderCacheRows() > 0) {
            schedulerConfig = schedulerConfig.withEncoderCacheRows(config.encoderCacheRows());
        }
        if (family.maxEmbeddingsPerItem() > 0) {
            schedulerConfig = schedulerConfig.withLargestMediaItem(family.maxEmbeddingsPerItem());
        }
        this.scheduler = new Scheduler(schedulerConfig);
        this.runner = new ModelRunner(family, kvCache);
        this.metrics = snapshot();
        this.loopThread = new Thread(this::loop, "sparkmm-engine");
        this.loopThread.setDaemon(true);
        this.loopThread.start();
    }

    public EngineConfig config() {
        return config;
    }

    public LoadedModel model() {
        return loaded;
    }

    /** Queues a request; never blocks on the model. A closed engine answers with a failed result. */
    public RequestHandle submit(EngineRequest request) {
        String id = request.requestId() != null ? request.requestId() : "req-" + ids.incrementAndGet();
        CompletableFuture<EngineResult> future = new CompletableFuture<>();
        RequestHandle handle = new RequestHandle(id, future, () -> cancel(id));
        if (closing) {
            future.completeExceptionally(new EngineClosedException("the engine is shut down; request " + id + " was not run"));
            return handle;
        }
        incoming.add(new RequestState(id, request, future, loaded, maxModelLen));
        if (closing) {
            // close() raced with this submit and the loop may already have drained the queue
            drainIncoming("the engine was shut down before this request started");
        }
        signal();
        return handle;
    }

    private void cancel(String id) {
        cancellations.add(id);
        signal();
    }

    /** The latest counters (refreshed after every step). */
    public EngineMetrics metrics() {
        return metrics;
    }

    private void signal() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void loop() {
        try {
            while (!closing) {
                admit();
                applyCancellations();
                if (!scheduler.hasUnfinished()) {
                    synchronized (wake) {
                        if (incoming.isEmpty() && cancellations.isEmpty() && !closing) {
                            wake.wait(100);
                        }
                    }
                    continue;
                }
                step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            LOG.error("sparkmm engine loop died", t);
            closing = true;
            failEverything("the engine loop failed: " + t);
            throw t;
        }
        failEverything("the engine was shut down before this request finished");
    }

    /** Inputs of the requests in a step, as the runner asks for them. */
    private final StepInputs stepInputs = new StepInputs() {
        @Override
        public MediaInput media(String requestId, int index) {
            return active.get(requestId).media(index);
        }

        @Override
        public RequestPositions positions(String requestId) {
            return active.get(requestId).positions();
        }
    };

    private void admit() {
        RequestState r;
        while ((r = incoming.poll()) != null) {
            try {
                r.validate();
                Sequence seq = new Sequence(r.id(), r.promptTokenIds(), r.mediaItems(), r.cacheSalt(), ids.incrementAndGet());
                scheduler.add(seq);
                r.attach(seq);
                active.put(r.id(), r);
                promptTokens += r.promptTokenIds().length;
            } catch (IllegalArgumentException e) {
                complete(r, r.failure(e.getMessage()));
            }
        }
    }

    private void applyCancellations() {
        String id;
        while ((id = cancellations.poll()) != null) {
            RequestState r = active.get(id);
            if (r == null) {
                // not admitted yet: it may still be in the incoming queue
                for (RequestState pending : incoming) {
                    if (pending.id().equals(id)) {
                        incoming.remove(pending);
                        complete(pending, pending.failure("cancelled"));
                    }
                }
                continue;
            }
            scheduler.abort(id);
            active.remove(id);
            complete(r, r.failure("cancelled"));
        }
    }

    private void step() {
        SchedulerOutput out = scheduler.schedule();
        if (out.chunks().isEmpty()) {
            // nothing could be scheduled this round (all blocked): back off instead of spinning
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            return;
        }
        runner.free(out.freedEncoderHashes());
        List<ScheduledChunk> live = failItemsThatDoNotEncode(out);
        // by identity: each chunk object of this step is its own key
        Map<ScheduledChunk, float[]> logits = new java.util.IdentityHashMap<>();
        forwardIsolating(live, logits);
        steps++;
        scheduledTokens += out.numBatchedTokens();
        maxRunningSeqs = Math.max(maxRunningSeqs, out.chunks().size());
        Map<String, Integer> sampled = new HashMap<>();
        Set<String> done = new HashSet<>();
        List<RequestState> completed = new ArrayList<>();
        for (ScheduledChunk c : live) {
            float[] l = logits.get(c);
            if (!c.samples() || l == null) {
                continue;
            }
            RequestState r = active.get(c.requestId());
            try {
                int token = r.sampleAndAppend(l);
                sampled.put(r.id(), token);
                generatedTokens++;
                if (r.isFinished()) {
                    done.add(r.id());
                    completed.add(r);
                }
            } catch (RuntimeException e) {
                done.add(r.id());
                r.fail("sampling failed: " + e.getMessage());
                completed.add(r);
            }
        }
        // the scheduler ignores the chunks of requests aborted during the step
        scheduler.update(out, sampled, done);
        for (String id : sampled.keySet()) {
            RequestState r = active.get(id);
            if (!done.contains(id) && r.endedByScheduler()) {
                completed.add(r); // the scheduler ends a request that can grow no further
            }
        }
        for (RequestState r : completed) {
            EngineResult result = resultOrFailure(r);
            active.remove(r.id());
            complete(r, result);
        }
        metrics = snapshot();
    }

    /**
     * The request's result, or its failure when building the result throws (decoding its text):
     * that fails the request alone, never the loop and with it every request still waiting.
     */
    private static EngineResult resultOrFailure(RequestState r) {
        try {
            return r.result();
        } catch (RuntimeException e) {
            LOG.warn("sparkmm: building the result of request {} failed; failing it", r.id(), e);
            return r.failure("building the result failed: " + e);
        }
    }

    /**
     * Runs the step's encoders item by item; an item that fails fails every active request that
     * owns it (by hash). Returns the chunks whose requests are still alive.
     */
    private List<ScheduledChunk> failItemsThatDoNotEncode(SchedulerOutput out) {
        Map<String, String> failedItems = runner.encode(out.chunks(), stepInputs);
        if (failedItems.isEmpty()) {
            return out.chunks();
        }
        for (RequestState r : new ArrayList<>(active.values())) {
            String why = r.firstFailedItem(failedItems);
            if (why != null) {
                abortWithError(r, why);
            }
        }
        for (String hash : failedItems.keySet()) {
            scheduler.discardEncoderOutput(hash);
        }
        List<ScheduledChunk> live = new ArrayList<>();
        for (ScheduledChunk c : out.chunks()) {
            if (active.containsKey(c.requestId())) {
                live.add(c);
            }
        }
        return live;
    }

    /**
     * One forward pass over {@code chunks}; when it fails, the halves run separately, down to
     * single chunks, so only the request that breaks the pass fails (at most 2n - 1 passes for n
     * chunks). The KV slots a failed pass wrote are written again, identically, by the retry.
     */
    private void forwardIsolating(List<ScheduledChunk> chunks, Map<ScheduledChunk, float[]> logits) {
        if (chunks.isEmpty()) {
            return;
        }
        float[][] rows;
        try {
            rows = runner.forward(chunks, stepInputs);
        } catch (RuntimeException e) {
            if (chunks.size() == 1) {
                RequestState r = active.get(chunks.get(0).requestId());
                LOG.warn("sparkmm: the forward pass failed for request {} alone; failing it", r.id(), e);
                abortWithError(r, "the forward pass failed: " + e);
                return;
            }
            LOG.warn("sparkmm: a forward pass over {} chunks failed ({}); retrying in halves to isolate the request",
                    chunks.size(), e.toString());
            int half = chunks.size() / 2;
            forwardIsolating(chunks.subList(0, half), logits);
            forwardIsolating(chunks.subList(half, chunks.size()), logits);
            return;
        }
        int row = 0;
        for (ScheduledChunk c : chunks) {
            if (c.samples()) {
                logits.put(c, rows[row++]);
            }
        }
    }

    private void abortWithError(RequestState r, String why) {
        active.remove(r.id());
        scheduler.abort(r.id());
        complete(r, r.failure(why));
    }

    /** Counts, refreshes the metrics, then completes: a caller woken by the future sees its request counted. */
    private void complete(RequestState r, EngineResult result) {
        finished++;
        if (!result.ok()) {
            failed++;
        }
        metrics = snapshot();
        r.future().complete(result);
    }

    private void failEverything(String why) {
        for (RequestState r : active.values()) {
            complete(r, r.failure(why));
        }
        active.clear();
        drainIncoming(why);
    }

    /** Fails queued requests; poll() hands each to exactly one caller, so none completes twice. */
    private void drainIncoming(String why) {
        RequestState r;
        while ((r = incoming.poll()) != null) {
            r.future().completeExceptionally(new EngineClosedException(why + " (request " + r.id() + ")"));
        }
    }

    private EngineMetrics snapshot() {
        SchedulerStats s = scheduler.stats();
        kvBlocksPeak = Math.max(kvBlocksPeak, s.kvBlocksUsed());
        return new EngineMetrics(steps, scheduledTokens, generatedTokens, promptTokens, s.prefixQueryTokens(),
                s.prefixHitTokens(), s.prefixWaits(), s.preemptions(), runner.encoderRuns(), s.encoderCacheHits(), finished, failed, s.kvBlocksUsed(), kvBlocksPeak, s.kvBlocksTotal(),
                kvCache.bytes(), maxRunningSeqs, System.nanoTime() - startNanos);
    }

    /**
     * Stops the loop: requests still queued complete exceptionally with {@link EngineClosedException},
     * running ones with an error result saying the engine shut down. The KV pool is released once
     * the loop has stopped; if a step is still running after {@link #CLOSE_WAIT_MILLIS}, the pool is
     * left to the garbage collector (with a warning) rather than freed under it. The model itself
     * belongs to the caller.
     */
    @Override
    public void close() {
        close(CLOSE_WAIT_MILLIS);
    }

    /** {@link #close()} with another wait for a running step (tests use a short one). */
    void close(long waitMillis) {
        closing = true;
        signal();
        boolean interrupted = false;
        try {
            loopThread.join(waitMillis);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (loopThread.isAlive()) {
            LOG.warn("sparkmm: the engine loop is still in a step after {} ms; its KV pool ({} bytes) is not freed under it "
                    + "and is left to the garbage collector once the loop ends", waitMillis, kvCache.bytes());
        } else {
            runner.clear();
            kvCache.close();
        }
        drainIncoming("the engine was shut down before this request started");
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
