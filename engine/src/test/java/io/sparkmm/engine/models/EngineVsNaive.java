package io.sparkmm.engine.models;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * The families' engine tests' oracle check: the naive generator (full recompute, no cache, no
 * chunks) gives each request's tokens, and the paged engine, under a configuration that chunks,
 * caches or preempts, must give the same ones with every request submitted at once.
 */
public final class EngineVsNaive {

    /** What one engine run gave: each request's result, in request order, and the engine's metrics. */
    public record Run(List<EngineResult> results, EngineMetrics metrics) {
        public long cachedTokens() {
            return results.stream().mapToLong(EngineResult::cachedTokens).sum();
        }
    }

    private EngineVsNaive() {
    }

    /** Each request's tokens from the naive generator. */
    public static List<int[]> expected(LoadedModel model, List<EngineRequest> requests, SamplingParams sampling) {
        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        List<int[]> out = new ArrayList<>();
        for (EngineRequest r : requests) {
            out.add(naive.generate(r.promptTokenIds(), r.media(), sampling).tokenIds());
        }
        return out;
    }

    /** Runs every request at once on a fresh engine under {@code config}; each must succeed with its expected tokens. */
    public static Run check(LoadedModel model, EngineConfig config, List<EngineRequest> requests, List<int[]> expected,
                            String what) throws Exception {
        List<RequestHandle> handles = new ArrayList<>();
        EngineMetrics metrics;
        try (Engine engine = new Engine(model, config)) {
            for (EngineRequest r : requests) {
                handles.add(engine.submit(r));
            }
            for (RequestHandle h : handles) {
                h.result().get();
            }
            metrics = engine.metrics();
        }
        List<EngineResult> results = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            EngineResult r = handles.get(i).result().get();
            assertThat(r.error()).as("%s request %d", what, i).isNull();
            assertThat(r.tokenIds()).as("%s request %d (%d media items) under %s", what, i, requests.get(i).media().size(),
                    config).containsExactly(expected.get(i));
            results.add(r);
        }
        return new Run(List.copyOf(results), metrics);
    }
}
