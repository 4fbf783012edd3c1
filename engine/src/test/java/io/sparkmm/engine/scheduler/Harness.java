package io.sparkmm.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkmm.engine.kv.BlockHasher;
import io.sparkmm.engine.kv.BlockPool;
import io.sparkmm.engine.kv.KvBlockManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Drives a scheduler with the fake model and checks invariants at every step. */
final class Harness {
    final SchedulerConfig config;
    final Scheduler scheduler;
    final FakePagedModel model;
    final Map<String, Sequence> sequences = new LinkedHashMap<>();
    final Map<String, Integer> maxOutputs = new HashMap<>();
    final List<SchedulerOutput> history = new ArrayList<>();
    private long nextArrival;

    Harness(SchedulerConfig config) {
        this(config, BlockHasher.sha256());
    }

    Harness(SchedulerConfig config, BlockHasher hasher) {
        this.config = config;
        this.scheduler = new Scheduler(config, hasher);
        this.model = new FakePagedModel(config.numBlocks(), config.blockSize());
    }

    static SchedulerConfig config(int budget, int maxSeqs, int numBlocks, int blockSize, boolean caching,
                                                                int maxModelLen, int threshold) {
        return new SchedulerConfig(budget, maxSeqs, numBlocks, blockSize, caching, maxModelLen, threshold);
    }

    Sequence submit(String id, int[] prompt, int maxOut) {
        return submit(new Sequence(id, prompt, null, List.of(), nextArrival++), maxOut);
    }

    /** A request with media items (validated by the Sequence constructor). */
    Sequence submit(String id, int[] prompt, List<MediaItem> media, int maxOut) {
        return submit(new Sequence(id, prompt, media, null, nextArrival++), maxOut);
    }

    Sequence submit(Sequence seq, int maxOut) {
        scheduler.add(seq);
        sequences.put(seq.requestId(), seq);
        maxOutputs.put(seq.requestId(), maxOut);
        return seq;
    }

    /** One schedule / check / model / update round. */
    SchedulerOutput step() {
        List<String> runningBefore = new ArrayList<>();
        for (Sequence seq : scheduler.runningSnapshot()) {
            runningBefore.add(seq.requestId());
        }
        SchedulerOutput out = scheduler.schedule();
        // Victims are taken from the end of the running list, latest admitted first.
        List<String> preempted = out.preemptedRequestIds();
        for (int i = 0; i < preempted.size(); i++) {
            assertThat(preempted.get(i)).as("victim %d", i).isEqualTo(runningBefore.get(runningBefore.size() - 1 - i));
        }
        history.add(out);
        checkInvariants(out);
        Map<String, Integer> sampled = model.run(out, sequences);
        Set<String> finished = new HashSet<>();
        for (Map.Entry<String, Integer> e : sampled.entrySet()) {
            Sequence seq = sequences.get(e.getKey());
            if (seq.numOutputTokens() + 1 >= maxOutputs.get(e.getKey())) {
                finished.add(e.getKey());
            }
        }
        scheduler.update(out, sampled, finished);
        checkPoolAccounting();
        checkEncoderAccounting();
        return out;
    }

    int runToCompletion(int maxSteps) {
        int steps = 0;
        while (scheduler.hasUnfinished()) {
            assertThat(steps++).as("steps before completion").isLessThan(maxSteps);
            step();
        }
        return steps;
    }

    void assertOutputsMatchReference() {
        for (Sequence seq : sequences.values()) {
            if (seq.status() == SequenceStatus.ABORTED) {
                continue;
            }
            assertThat(seq.status()).as(seq.requestId()).isEqualTo(SequenceStatus.FINISHED);
            int[] prompt = Arrays.copyOf(seq.allTokenIds(), seq.numPromptTokens());
            int[] expected = FakePagedModel.reference(prompt, seq.extraKeys(), seq.mediaItems(), maxOutputs.get(seq.requestId()),
                    config.maxModelLen(), config.numBlocks() * config.blockSize());
            assertThat(seq.outputTokenIds()).as("outputs of " + seq.requestId()).containsExactly(expected);
        }
    }

    KvBlockManager kv() {
        return scheduler.blockManager();
    }

    private void checkInvariants(SchedulerOutput out) {
        KvBlockManager kv = kv();
        int bs = config.blockSize();
        int sum = 0;
        Set<Integer> slots = new HashSet<>();
        Set<String> ids = new HashSet<>();
        for (ScheduledChunk c : out.chunks()) {
            Sequence seq = sequences.get(c.requestId());
            int len = c.numTokens();
            int end = c.startPosition() + len;
            sum += len;
            assertThat(ids.add(c.requestId())).as("one chunk per request").isTrue();
            assertThat(len).isPositive();
            if (config.longPrefillTokenThreshold() > 0) {
                assertThat(len).isLessThanOrEqualTo(config.longPrefillTokenThreshold());
            }
            assertThat(seq.status()).isEqualTo(SequenceStatus.RUNNING);
            assertThat(c.startPosition()).isEqualTo(seq.numComputedTokens());
            assertThat(end).isLessThanOrEqualTo(seq.numTokens());
            assertThat(c.samples()).isEqualTo(end == seq.numTokens());
            assertThat(c.tokenIds()).containsExactly(seq.tokenIds(c.startPosition(), end));
            int[] table = c.blockTable();
            assertThat(table).hasSize(kv.blocksNeeded(end));
            assertThat(table).containsExactly(Arrays.copyOf(kv.blockTable(c.requestId()), table.length));
            checkMedia(seq, c);
            int[] slotMap = c.slotMapping();
            for (int j = 0; j < len; j++) {
                int pos = c.startPosition() + j;
                // Plain checks here: this loop runs for every token of every step of the soak.
                check(slotMap[j] == table[pos / bs] * bs + pos % bs, "slot of %s pos %d", c.requestId(), pos);
                check(slots.add(slotMap[j]), "slot %d written twice in one step", slotMap[j]);
                int block = slotMap[j] / bs;
                // Writes go only to blocks this request owns alone and that are not (yet) cached.
                check(kv.pool().refCount(block) == 1, "block %d written by %s has %d owners", block, c.requestId(),
                        kv.pool().refCount(block));
                check(kv.pool().cachedKey(block) == null, "write into cached block %d", block);
            }
        }
        assertThat(out.numEncoderRows()).as("encoder rows of one step")
                .isLessThanOrEqualTo(config.maxEncoderTokensPerStep());
        assertThat(scheduler.encoderCache().usedRows()).isLessThanOrEqualTo(config.encoderCacheRows());
        assertThat(out.numBatchedTokens()).isEqualTo(sum).isLessThanOrEqualTo(config.maxNumBatchedTokens());
        assertThat(scheduler.numRunning()).isLessThanOrEqualTo(config.maxNumSeqs());
        assertThat(out.chunks().size()).isLessThanOrEqualTo(config.maxNumSeqs());
        for (String id : out.preemptedRequestIds()) {
            Sequence seq = sequences.get(id);
            assertThat(seq.status()).isEqualTo(SequenceStatus.WAITING);
            assertThat(seq.numComputedTokens()).isZero();
            assertThat(kv.blockTable(id)).isEmpty();
        }
        if (!out.preemptedRequestIds().isEmpty()) {
            assertThat(scheduler.waitingSnapshot().get(0).requestId())
                    .as("the last preempted goes to the head of the waiting queue")
                    .isEqualTo(out.preemptedRequestIds().get(out.preemptedRequestIds().size() - 1));
        }
        checkPoolAccounting();
    }

    /**
     * The chunk lists exactly the request's items overlapping it; it encodes only items among
     * those, each whole, and only items not computed before the chunk.
     */
    private static void checkMedia(Sequence seq, ScheduledChunk c) {
        int start = c.startPosition();
        int end = start + c.numTokens();
        List<MediaItem> overlapping = new ArrayList<>();
        for (MediaItem m : seq.mediaItems()) {
            if (m.offset() < end && m.end() > start) {
                overlapping.add(m);
            }
        }
        assertThat(c.mediaInChunk()).as("media in chunk of %s", c.requestId()).isEqualTo(overlapping);
        assertThat(overlapping).as("encoded items of %s", c.requestId()).containsAll(c.encodeItems());
    }

    /** Ref counts equal table membership; sharing only of cached, fully computed blocks. */
    void checkPoolAccounting() {
        KvBlockManager kv = kv();
        BlockPool pool = kv.pool();
        int bs = config.blockSize();
        int[] holders = new int[config.numBlocks()];
        for (Sequence seq : scheduler.runningSnapshot()) {
            int[] table = kv.blockTable(seq.requestId());
            assertThat(table.length).isGreaterThanOrEqualTo(kv.blocksNeeded(seq.numComputedTokens()));
            for (int i = 0; i < table.length; i++) {
                holders[table[i]]++;
                if (pool.cachedKey(table[i]) != null) {
                    assertThat(i).as("cached block %d of %s is fully computed", table[i], seq.requestId())
                            .isLessThan(seq.numComputedTokens() / bs);
                }
            }
        }
        for (Sequence seq : scheduler.waitingSnapshot()) {
            assertThat(kv.blockTable(seq.requestId())).as("waiting %s holds no blocks", seq.requestId()).isEmpty();
            assertThat(seq.numComputedTokens()).isZero();
        }
        int used = 0;
        for (int b = 0; b < holders.length; b++) {
            assertThat(pool.refCount(b)).as("ref count of block " + b).isEqualTo(holders[b]);
            if (holders[b] > 1) {
                assertThat(pool.cachedKey(b)).as("shared block %d is a cached prefix block", b).isNotNull();
            }
            if (holders[b] > 0) {
                used++;
            }
        }
        assertThat(scheduler.stats().kvBlocksUsed()).isEqualTo(used);
        assertThat(pool.numFree()).isEqualTo(config.numBlocks() - used);
        assertThat(pool.freeQueue()).hasSize(pool.numFree());
        for (int b : pool.freeQueue()) {
            assertThat(pool.refCount(b)).isZero();
        }
    }

    /**
     * Encoder references equal what running requests hold (nothing leaks past finish, abort or
     * preemption), and the fake engine holds exactly the outputs the scheduler thinks are cached.
     */
    void checkEncoderAccounting() {
        Map<String, Integer> held = new HashMap<>();
        for (Sequence seq : scheduler.runningSnapshot()) {
            List<MediaItem> media = seq.mediaItems();
            for (int i = 0; i < media.size(); i++) {
                if (seq.holdsEncoderOutput(i)) {
                    held.merge(media.get(i).hash(), 1, Integer::sum);
                    // Held only while the range is not fully computed.
                    check(media.get(i).end() > seq.numComputedTokens(), "%s holds computed %s", seq.requestId(), media.get(i));
                }
            }
        }
        for (Sequence seq : sequences.values()) {
            if (seq.status() != SequenceStatus.RUNNING) {
                for (int i = 0; i < seq.mediaItems().size(); i++) {
                    check(!seq.holdsEncoderOutput(i), "%s %s holds item %d", seq.requestId(), seq.status(), i);
                }
            }
            for (MediaItem m : seq.mediaItems()) {
                String h = m.hash();
                check(scheduler.encoderCache().refCount(h) == held.getOrDefault(h, 0), "refs of %s: %d, held %d", h,
                        scheduler.encoderCache().refCount(h), held.getOrDefault(h, 0));
                check(scheduler.encoderCache().has(h) == model.holdsEncoderOutput(h), "%s cached %s, engine has %s", h,
                        scheduler.encoderCache().has(h), model.holdsEncoderOutput(h));
            }
        }
    }

    private static void check(boolean ok, String format, Object... args) {
        if (!ok) {
            throw new AssertionError(String.format(format, args));
        }
    }

    static int[] tokens(int n, int seed) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = Math.floorMod(seed * 7919 + i * 104729 + (i * i) % 97, 1000);
        }
        return t;
    }
}
