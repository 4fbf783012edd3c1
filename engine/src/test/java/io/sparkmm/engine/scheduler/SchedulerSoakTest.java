package io.sparkmm.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * 300 random requests over 6 random configurations (block size, budget, pool, sequence cap,
 * long-prefill cap, caching), arriving while others run, with shared prefixes, salts, media
 * keys and occasional aborts. Every step is checked by {@link Harness}; every finished request
 * must produce exactly what it produces alone with unbounded memory.
 */
class SchedulerSoakTest {
    private static final int SCENARIOS = 6;
    private static final int REQUESTS_PER_SCENARIO = 50;
    private static final int MAX_PROMPT = 120;

    private long totalPreemptions;
    private long totalHitTokens;
    private long totalPrefixWaits;

    @Test
    void randomWorkloadsCompleteWithReferenceOutputs() {
        for (int s = 0; s < SCENARIOS; s++) {
            runScenario(new Random(1000 + s), s);
        }
        // The soak must actually exercise the interesting paths.
        assertThat(totalPreemptions).as("preemptions over all scenarios").isPositive();
        assertThat(totalHitTokens).as("prefix hit tokens over all scenarios").isPositive();
        assertThat(totalPrefixWaits).as("waits for in-flight prefix blocks over all scenarios").isPositive();
    }

    private void runScenario(Random rnd, int scenario) {
        int bs = new int[] {1, 2, 4, 8, 16}[rnd.nextInt(5)];
        int minBlocks = (MAX_PROMPT + 1 + bs - 1) / bs;
        SchedulerConfig config = new SchedulerConfig(
                4 + rnd.nextInt(300),
                1 + rnd.nextInt(24),
                minBlocks + rnd.nextInt(3 * minBlocks),
                bs,
                // Scenario 0 always caches, so the soak covers hits whatever the seeds give.
                scenario == 0 || rnd.nextInt(5) > 0,
                MAX_PROMPT + 1 + rnd.nextInt(80),
                rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(64));
        Harness h = new Harness(config);
        List<int[]> prefixes = new ArrayList<>();
        for (int p = 0; p < 5; p++) {
            prefixes.add(Harness.tokens(80, 5000 + scenario * 10 + p));
        }
        int submitted = 0;
        int steps = 0;
        while (submitted < REQUESTS_PER_SCENARIO || h.scheduler.hasUnfinished()) {
            assertThat(steps++).as("scenario %d: steps (%s)", scenario, config).isLessThan(50_000);
            int arrivals = submitted < REQUESTS_PER_SCENARIO ? rnd.nextInt(4) : 0;
            if (!h.scheduler.hasUnfinished() && arrivals == 0 && submitted < REQUESTS_PER_SCENARIO) {
                arrivals = 1;
            }
            for (int a = 0; a < arrivals && submitted < REQUESTS_PER_SCENARIO; a++) {
                h.submit(randomSequence(rnd, "s" + scenario + "-r" + submitted, prefixes, submitted), 1 + rnd.nextInt(24));
                submitted++;
            }
            if (rnd.nextInt(50) == 0) {
                abortRandom(h, rnd);
            }
            h.step();
        }
        h.assertOutputsMatchReference();
        assertThat(h.scheduler.numRunning()).isZero();
        assertThat(h.scheduler.numWaiting()).isZero();
        SchedulerStats stats = h.scheduler.stats();
        assertThat(stats.kvBlocksUsed()).isZero();
        assertThat(stats.preemptions())
                .isEqualTo(h.sequences.values().stream().mapToLong(Sequence::numPreemptions).sum());
        assertThat(stats.prefixWaits())
                .isEqualTo(h.sequences.values().stream().mapToLong(Sequence::numPrefixWaits).sum());
        assertThat(h.sequences.values()).allSatisfy(q -> assertThat(q.numPrefixWaits())
                .isLessThanOrEqualTo(config.maxPrefixWaitSteps()));
        assertThat(h.kv().numInFlightBlocks()).as("in-flight blocks left over").isZero();
        long finished = h.sequences.values().stream().filter(q -> q.status() == SequenceStatus.FINISHED).count();
        // Diagnostics only (surefire keeps test output in a file): what the scenario exercised.
        System.out.printf("scenario %d: %s steps=%d finished=%d preemptions=%d hitTokens=%d/%d%n", scenario, config,
                steps, finished, stats.preemptions(), stats.prefixHitTokens(), stats.prefixQueryTokens());
        totalPreemptions += stats.preemptions();
        totalHitTokens += stats.prefixHitTokens();
        totalPrefixWaits += stats.prefixWaits();
    }

    private static Sequence randomSequence(Random rnd, String id, List<int[]> prefixes, long arrival) {
        int[] prefix = prefixes.get(rnd.nextInt(prefixes.size()));
        int shared = rnd.nextInt(prefix.length + 1);
        int own = 1 + rnd.nextInt(MAX_PROMPT - prefix.length);
        int[] prompt = new int[shared + own];
        System.arraycopy(prefix, 0, prompt, 0, shared);
        for (int i = shared; i < prompt.length; i++) {
            prompt[i] = rnd.nextInt(1000);
        }
        String salt = rnd.nextInt(5) == 0 ? "tenant-" + rnd.nextInt(2) : null;
        List<ExtraKeyRange> media = new ArrayList<>();
        if (rnd.nextInt(3) == 0) {
            int items = 1 + rnd.nextInt(2);
            for (int k = 0; k < items; k++) {
                int start = rnd.nextInt(prompt.length);
                int end = start + 1 + rnd.nextInt(Math.min(30, prompt.length - start));
                media.add(new ExtraKeyRange(start, end, "img-" + rnd.nextInt(3)));
            }
        }
        return new Sequence(id, prompt, salt, media, arrival);
    }

    private static void abortRandom(Harness h, Random rnd) {
        List<Sequence> live = new ArrayList<>(h.scheduler.runningSnapshot());
        live.addAll(h.scheduler.waitingSnapshot());
        if (!live.isEmpty()) {
            Sequence victim = live.get(rnd.nextInt(live.size()));
            assertThat(h.scheduler.abort(victim.requestId())).isTrue();
            assertThat(victim.status()).isEqualTo(SequenceStatus.ABORTED);
        }
    }
}
