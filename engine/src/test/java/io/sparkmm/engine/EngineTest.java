package io.sparkmm.engine;

import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.generate.FinishReason;
import io.sparkmm.engine.generate.NaiveGenerator;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Engine behaviour around the edges: bad requests, cancellation, shutdown, threads, stops. */
class EngineTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void load() {
        // max_position_embeddings 64 so a long prompt is easy to make
        TinyCheckpoint.Spec s = TinyCheckpoint.Spec.llamaGqa();
        TinyCheckpoint.write(dir, new TinyCheckpoint.Spec(s.architecture(), s.hiddenSize(), s.intermediateSize(),
                s.numLayers(), s.numHeads(), s.numKvHeads(), false, s.dtype(), 5, 64, 10000.0, null));
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(dir, backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static int[] ids(int n, int start) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = (start + 7 * i) % 370;
        }
        return p;
    }

    @Test
    void badRequestsFailAloneAndTheOthersFinish() throws Exception {
        try (Engine engine = new Engine(model, EngineConfig.defaults().withBlockSize(4).withNumKvBlocks(12))) {
            RequestHandle good1 = engine.submit(EngineRequest.of(ids(5, 1), SamplingParams.greedy(3)));
            RequestHandle tooLongForContext = engine.submit(EngineRequest.of(ids(64, 2), SamplingParams.greedy(3)));
            RequestHandle tooLargeForPool = engine.submit(EngineRequest.of(ids(50, 3), SamplingParams.greedy(3)));
            RequestHandle empty = engine.submit(EngineRequest.of(new int[0], SamplingParams.greedy(3)));
            RequestHandle badId = engine.submit(EngineRequest.of(new int[] {1, 5000}, SamplingParams.greedy(3)));
            RequestHandle good2 = engine.submit(EngineRequest.of(ids(9, 4), SamplingParams.greedy(3)));

            assertThat(tooLongForContext.result().get().error()).contains("64").contains("context");
            assertThat(tooLargeForPool.result().get().error()).containsIgnoringCase("block");
            assertThat(empty.result().get().error()).containsIgnoringCase("empty");
            assertThat(badId.result().get().error()).contains("5000");
            NaiveGenerator naive = new NaiveGenerator(model.model(), model.eosTokenIds());
            assertThat(good1.result().get().tokenIds()).containsExactly(naive.generate(ids(5, 1), SamplingParams.greedy(3)).tokenIds());
            assertThat(good2.result().get().tokenIds()).containsExactly(naive.generate(ids(9, 4), SamplingParams.greedy(3)).tokenIds());
            assertThat(engine.metrics().failed()).isEqualTo(4);
        }
    }

    @Test
    void aPoolTooSmallForOneBlockFailsAtStartSayingWhatIsNeeded() {
        long perBlock = model.model().languageModel().kvBytesPerBlock(16, EngineConfig.DEFAULT_KV_DTYPE);
        assertThatThrownBy(() -> new Engine(model, EngineConfig.defaults().withKvCacheBytes(perBlock - 1)))
                .hasMessageContaining(String.valueOf(perBlock)).hasMessageContaining("kv_cache_bytes");
    }

    @Test
    void contextLimitEndsWithLength() throws Exception {
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            EngineResult r = engine.submit(EngineRequest.of(ids(60, 9),
                    SamplingParams.builder().temperature(0).maxTokens(50).ignoreEos(true).build())).result().get();
            assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(r.tokenIds()).hasSize(4);
        }
    }

    @Test
    void cancelFreesTheRequestAndShutdownFailsWhatIsLeft() throws Exception {
        Engine engine = new Engine(model, EngineConfig.defaults().withMaxNumBatchedTokens(8));
        SamplingParams forever = SamplingParams.builder().temperature(0).maxTokens(40).ignoreEos(true).build();
        List<RequestHandle> hs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            hs.add(engine.submit(EngineRequest.of(ids(20, i), forever)));
        }
        hs.get(0).cancel();
        EngineResult cancelled = hs.get(0).result().get(30, TimeUnit.SECONDS);
        assertThat(cancelled.error()).contains("cancelled");
        engine.close();
        for (RequestHandle h : hs) {
            // running requests end with an error result; ones never admitted complete exceptionally
            try {
                EngineResult r = h.result().get(30, TimeUnit.SECONDS);
                assertThat(r.ok() || r.error().contains("shut down") || r.error().contains("cancelled")).isTrue();
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(EngineClosedException.class).hasMessageContaining("shut down");
            }
        }
        assertThatThrownBy(() -> engine.submit(EngineRequest.of(ids(3, 0), forever)).result().get())
                .hasCauseInstanceOf(EngineClosedException.class).hasMessageContaining("shut down");
    }

    @Test
    void stopStringsCutTheTextAndMinTokensHoldsStopsBack() throws Exception {
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            SamplingParams free = SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(true).build();
            EngineResult base = engine.submit(EngineRequest.of(ids(6, 3), free)).result().get();
            String text = base.text();
            // pick a stop string from the middle of the greedy text; the output must end right before it
            int cut = text.length() / 2;
            String stop = text.substring(cut, Math.min(text.length(), cut + 2));
            int first = text.indexOf(stop);
            EngineResult stopped = engine.submit(EngineRequest.of(ids(6, 3),
                    free.toBuilder().stop(List.of(stop)).build())).result().get();
            assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(stopped.stopReason()).isEqualTo(stop);
            assertThat(stopped.text()).isEqualTo(text.substring(0, first));
            assertThat(stopped.tokenIds().length).isLessThan(base.tokenIds().length);

            // the first greedy token as a stop id: with min_tokens 4 it cannot end the request early
            int firstToken = base.tokenIds()[0];
            EngineResult held = engine.submit(EngineRequest.of(ids(6, 3), free.toBuilder()
                    .stopTokenIds(List.of(firstToken)).minTokens(4).build())).result().get();
            assertThat(held.tokenIds().length).isGreaterThanOrEqualTo(4);
            EngineResult immediate = engine.submit(EngineRequest.of(ids(6, 3), free.toBuilder()
                    .stopTokenIds(List.of(firstToken)).build())).result().get();
            assertThat(immediate.tokenIds()).containsExactly(firstToken);
            assertThat(immediate.finishReason()).isEqualTo(FinishReason.STOP);
        }
    }

    @Test
    void manyThreadsSubmitAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            List<Future<EngineResult>> fs = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                int n = i;
                fs.add(pool.submit(() -> engine.submit(EngineRequest.of(ids(3 + n % 20, n),
                        SamplingParams.builder().temperature(0).maxTokens(4).ignoreEos(true).build())).result().get()));
            }
            for (Future<EngineResult> f : fs) {
                assertThat(f.get().tokenIds()).hasSize(4);
            }
            EngineMetrics m = engine.metrics();
            assertThat(m.finished()).isEqualTo(64);
            assertThat(m.generatedTokens()).isEqualTo(256);
            assertThat(m.kvBlocksUsed()).isZero();
            assertThat(m.maxRunningSeqs()).isGreaterThan(1);
        } finally {
            pool.shutdownNow();
        }
    }
}
