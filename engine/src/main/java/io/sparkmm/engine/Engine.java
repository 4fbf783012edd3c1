package io.sparkmm.engine;

import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.LlavaModel;
import io.sparkmm.engine.runner.MediaEncoder;
import io.sparkmm.engine.runner.ModelRunner;
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
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Continuous batching over a paged KV cache, vLLM v1 style. Any thread may {@link #submit}; one
 * loop thread owns the scheduler, the model and every request's state, so none of those need
 * locks. Each step: admit new requests and cancellations, schedule (decodes and prefill chunks
 * under one token budget), run one forward pass, sample, check stops, and complete the futures
 * of finished requests. A bad request fails alone; the loop keeps serving the others.
 */
public final class Engine implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Engine.class.getName());

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
        DecoderModel model = loaded.model();
        this.maxModelLen = model.config().maxPositionEmbeddings();
        int blocks = KvPoolSizing.numBlocks(config, model, maxModelLen);
        this.kvCache = model.allocateKvCache(blocks, config.blockSize());
        SchedulerConfig schedulerConfig = new SchedulerConfig(config.maxNumBatchedTokens(), config.maxNumSeqs(), blocks,
                config.blockSize(), config.prefixCaching(), maxModelLen, config.longPrefillTokenThreshold());
        LlavaModel llava = loaded.llava();
        MediaEncoder encoder = null;
        if (llava != null) {
            schedulerConfig = schedulerConfig.withLargestMediaItem(llava.imageTokensPerImage());
            encoder = item -> {
                if (!item.modality().equals("image")) {
                    throw new IllegalArgumentException("this model takes images, not " + item.modality());
                }
                return llava.encodeImage(item.data());
            };
        }
        this.scheduler = new Scheduler(schedulerConfig);
        this.runner = new ModelRunner(model, kvCache, encoder);
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
            future.complete(EngineResult.failed(id, request.promptTokenIds().length, "the engine is shut down"));
            return handle;
        }
        incoming.add(new RequestState(id, request, future, loaded, maxModelLen));
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
            LOG.log(Level.SEVERE, "sparkmm engine loop died", t);
            closing = true;
            failEverything("the engine loop failed: " + t);
            throw t;
        }
        failEverything("the engine was shut down before this request finished");
    }

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
        float[][] logits;
        try {
            logits = runner.execute(out, (requestId, index) -> active.get(requestId).media(index));
        } catch (RuntimeException e) {
            // A failure inside the forward pass is not tied to one request; fail this step's
            // requests with the cause and keep the engine for the rest.
            LOG.log(Level.WARNING, "forward pass failed", e);
            for (ScheduledChunk c : out.chunks()) {
                RequestState r = active.remove(c.requestId());
                scheduler.abort(c.requestId());
                if (r != null) {
                    complete(r, r.failure("the forward pass failed: " + e));
                }
            }
            // closes the step: the scheduler ignores the chunks of aborted requests
            scheduler.update(out, Map.of(), Set.of());
            return;
        }
        steps++;
        scheduledTokens += out.numBatchedTokens();
        maxRunningSeqs = Math.max(maxRunningSeqs, out.chunks().size());
        Map<String, Integer> sampled = new HashMap<>();
        Set<String> done = new HashSet<>();
        List<RequestState> completed = new ArrayList<>();
        int row = 0;
        for (ScheduledChunk c : out.chunks()) {
            if (!c.samples()) {
                continue;
            }
            RequestState r = active.get(c.requestId());
            float[] l = logits[row++];
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
        scheduler.update(out, sampled, done);
        for (String id : sampled.keySet()) {
            RequestState r = active.get(id);
            if (!done.contains(id) && r.endedByScheduler()) {
                completed.add(r); // the scheduler ends a request that can grow no further
            }
        }
        for (RequestState r : completed) {
            active.remove(r.id());
            complete(r, r.result());
        }
        metrics = snapshot();
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
        RequestState r;
        while ((r = incoming.poll()) != null) {
            complete(r, r.failure(why));
        }
        metrics = snapshot();
    }

    private EngineMetrics snapshot() {
        SchedulerStats s = scheduler.stats();
        kvBlocksPeak = Math.max(kvBlocksPeak, s.kvBlocksUsed());
        return new EngineMetrics(steps, scheduledTokens, generatedTokens, promptTokens, s.prefixQueryTokens(),
                s.prefixHitTokens(), s.preemptions(), runner.encoderRuns(), s.encoderCacheHits(), finished, failed, s.kvBlocksUsed(), kvBlocksPeak, s.kvBlocksTotal(),
                kvCache.bytes(), maxRunningSeqs, System.nanoTime() - startNanos);
    }

    /**
     * Stops the loop: requests still queued or running complete with an error saying the engine
     * shut down; the KV pool is released. The model itself belongs to the caller.
     */
    @Override
    public void close() {
        closing = true;
        signal();
        try {
            loopThread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runner.clear();
        kvCache.close();
    }
}
