package io.sparkmm.engine;

import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A request that breaks the forward pass fails alone; shutdown races and running steps lose nothing. */
class EngineRobustnessTest {

    /** Token runs no prompt here contains (prompt ids are 3..302) and no decode chunk (one token) can form. */
    static final int[] POISON = {350, 351, 352};
    static final int[] HOLD = {360, 361, 362};

    @TempDir
    static Path dir;
    static Backend real;
    static InterceptingBackend intercepting;
    static LoadedModel model;

    @BeforeAll
    static void load() {
        TinyCheckpoint.write(dir, TinyCheckpoint.Spec.llamaGqa());
        real = Backends.open("cpu", 2);
        intercepting = new InterceptingBackend(real, POISON, HOLD);
        model = LoadedModel.open(dir, intercepting.backend);
    }

    @AfterAll
    static void close() {
        model.close();
        real.close();
    }

    private static int[] prompt(Random rnd, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = 3 + rnd.nextInt(300);
        }
        return p;
    }

    @Test
    void onePoisonedRequestAmongFiftyInOneStepFailsAloneAndTheOthersGetTheirCleanTokens() throws Exception {
        Random rnd = new Random(11);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            prompts.add(prompt(rnd, 5 + rnd.nextInt(6)));
        }
        int poisoned = 23;
        System.arraycopy(POISON, 0, prompts.get(poisoned), 1, 3);
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(5).ignoreEos(true).build();

        List<int[]> clean = new ArrayList<>();
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            for (int i = 0; i < 50; i++) {
                clean.add(i == poisoned ? null : engine.submit(EngineRequest.of(prompts.get(i), greedy)).result().get().tokenIds());
            }
        }

        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            // hold the loop inside a step so all fifty are admitted together and share the next step
            RequestHandle blocker = engine.submit(EngineRequest.of(HOLD, SamplingParams.greedy(1)));
            assertThat(intercepting.holding.await(30, TimeUnit.SECONDS)).isTrue();
            List<RequestHandle> hs = new ArrayList<>();
            for (int[] p : prompts) {
                hs.add(engine.submit(EngineRequest.of(p, greedy)));
            }
            int failedBefore = intercepting.failedForwards.get();
            intercepting.release();
            assertThat(blocker.result().get().ok()).isTrue();
            for (int i = 0; i < 50; i++) {
                EngineResult r = hs.get(i).result().get(60, TimeUnit.SECONDS);
                if (i == poisoned) {
                    assertThat(r.error()).contains("the forward pass failed").contains("poisoned tokens");
                } else {
                    assertThat(r.error()).as("request %d", i).isNull();
                    assertThat(r.tokenIds()).as("request %d", i).containsExactly(clean.get(i));
                }
            }
            // halving 50 chunks down to the poisoned one: one failed pass per level, about log2(50) + 1
            int failed = intercepting.failedForwards.get() - failedBefore;
            assertThat(failed).isBetween(2, 8);
            assertThat(engine.metrics().failed()).isEqualTo(1);
        }
    }

    @Test
    void submitsRacingWithCloseAllComplete() throws Exception {
        Random rnd = new Random(5);
        SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        for (int round = 0; round < 3; round++) {
            Engine engine = new Engine(model, EngineConfig.defaults());
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<CompletableFuture<EngineResult>> futures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                prompts.add(prompt(rnd, 4));
            }
            for (int t = 0; t < 4; t++) {
                int offset = t * 50;
                pool.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        futures.add(engine.submit(EngineRequest.of(prompts.get(offset + i), p)).result());
                    }
                });
            }
            Thread.sleep(5L * round);
            engine.close();
            pool.shutdown();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            assertThat(futures).hasSize(200);
            int ok = 0;
            int closed = 0;
            for (CompletableFuture<EngineResult> f : futures) {
                try {
                    EngineResult r = f.get(30, TimeUnit.SECONDS);
                    if (r.ok()) {
                        ok++;
                    } else {
                        assertThat(r.error()).contains("shut down");
                        closed++;
                    }
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(EngineClosedException.class);
                    closed++;
                }
            }
            assertThat(ok + closed).isEqualTo(200);
        }
    }

    @Test
    void closeDuringARunningStepWaitsAndNeverFreesThePoolUnderIt() throws Exception {
        InterceptingBackend held = new InterceptingBackend(real, POISON, HOLD);
        try (LoadedModel m = LoadedModel.open(dir, held.backend)) {
            Engine engine = new Engine(m, EngineConfig.defaults());
            RequestHandle h = engine.submit(EngineRequest.of(new int[] {5, HOLD[0], HOLD[1], HOLD[2], 6}, SamplingParams.greedy(4)));
            assertThat(held.holding.await(30, TimeUnit.SECONDS)).isTrue();
            long t0 = System.nanoTime();
            engine.close(300);
            assertThat((System.nanoTime() - t0) / 1e6).isGreaterThanOrEqualTo(250);
            // the step still runs on the pool: freeing it here would make the step fail with a closed-cache error
            held.release();
            EngineResult r = h.result().get(30, TimeUnit.SECONDS);
            assertThat(r.error()).contains("shut down").doesNotContain("forward pass failed");
        }
    }
}
