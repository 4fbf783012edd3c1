package io.sparkmm.engine.bench;

import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Offline throughput: N requests through the paged engine against naive one-at-a-time
 * full-recompute generation, on the same backend, model and requests, in one run. The naive
 * path is timed on a sample of the requests (it is slow by design) and its rate extrapolated;
 * every sampled request must produce the same greedy tokens on both paths. A benchmark main:
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp engine/target/sparkmm-cli.jar \
 *       io.sparkmm.engine.bench.EngineThroughputBenchmark [--requests 256] [--model DIR]
 * </pre>
 */
public final class EngineThroughputBenchmark {

    private EngineThroughputBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int requests = 256;
        int naiveSample = 16;
        Path model = null;
        List<DType> kvDtypes = List.of(EngineConfig.DEFAULT_KV_DTYPE);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--requests" -> requests = Integer.parseInt(args[++i]);
                case "--naive-sample" -> naiveSample = Integer.parseInt(args[++i]);
                case "--model" -> model = Path.of(args[++i]);
                case "--kv-dtypes" -> kvDtypes = Arrays.stream(args[++i].split(",")).map(EngineConfig::parseKvDtype).toList();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (model == null) {
            model = Files.createTempDirectory("sparkmm-bench");
            TinyCheckpoint.write(model, new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.LLAMA, 256, 688, 4, 8, 4,
                    false, DType.BF16, 1, 4096, 10000.0, null));
        }
        Random rnd = new Random(7);
        int[] system = new int[48];
        for (int i = 0; i < system.length; i++) {
            system[i] = rnd.nextInt(370);
        }
        List<int[]> prompts = new ArrayList<>();
        List<SamplingParams> params = new ArrayList<>();
        for (int r = 0; r < requests; r++) {
            // half share a 48-token "system prompt", as batch jobs with one instruction do
            int own = 16 + rnd.nextInt(48);
            int shared = r % 2 == 0 ? system.length : 0;
            int[] p = Arrays.copyOf(system, shared + own);
            for (int i = shared; i < p.length; i++) {
                p[i] = rnd.nextInt(370);
            }
            prompts.add(p);
            params.add(SamplingParams.builder().temperature(0).maxTokens(32 + rnd.nextInt(32)).ignoreEos(true).build());
        }
        try (LoadedModel loaded = EngineSession.loadModel(model.toString(), EngineOptions.defaultDevice())) {
            System.out.printf("offline throughput, %d requests, backend %s, model %s, JVM %s%n", requests,
                    loaded.backend().name(), model, System.getProperty("java.vm.version"));
            long promptTotal = prompts.stream().mapToLong(p -> p.length).sum();
            List<int[]> engineTokens = null;
            double engineGen = 0;
            double engineTotal = 0;
            for (DType kvDtype : kvDtypes) {
                EngineOptions options = EngineOptions.defaults().withEngine(EngineConfig.defaults().withKvCacheDtype(kvDtype));
                long t0 = System.nanoTime();
                List<int[]> tokens = new ArrayList<>();
                EngineMetrics m;
                try (EngineSession session = EngineSession.over(loaded, options, new ProcessorCache(0))) {
                    List<RequestHandle> hs = new ArrayList<>();
                    for (int r = 0; r < requests; r++) {
                        hs.add(session.engine().submit(EngineRequest.of(prompts.get(r), params.get(r))));
                    }
                    for (RequestHandle h : hs) {
                        tokens.add(h.result().get().tokenIds());
                    }
                    m = session.engine().metrics();
                }
                double engineSeconds = (System.nanoTime() - t0) / 1e9;
                long generated = tokens.stream().mapToLong(t -> t.length).sum();
                double gen = generated / engineSeconds;
                double total = (generated + promptTotal) / engineSeconds;
                System.out.printf("engine (KV %s): %6d prompt + %6d generated tokens in %7.2f s: %8.1f generated tok/s, %8.1f total tok/s%n",
                        kvDtype, promptTotal, generated, engineSeconds, gen, total);
                System.out.printf("engine (KV %s): %d steps, %.1f tokens/step, max %d sequences/step, prefix-cache hit rate %.1f%%, "
                                + "%d preemptions, KV peak %d of %d blocks = %.1f of %.1f MiB%n",
                        kvDtype, m.steps(), m.meanTokensPerStep(), m.maxRunningSeqs(), 100 * m.prefixHitRate(), m.preemptions(),
                        m.kvBlocksPeak(), m.kvBlocksTotal(),
                        m.kvCacheBytes() * (double) m.kvBlocksPeak() / m.kvBlocksTotal() / 1048576.0, m.kvCacheBytes() / 1048576.0);
                if (engineTokens == null) {
                    engineTokens = tokens;
                    engineGen = gen;
                    engineTotal = total;
                } else {
                    int same = 0;
                    for (int r = 0; r < requests; r++) {
                        same += Arrays.equals(tokens.get(r), engineTokens.get(r)) ? 1 : 0;
                    }
                    System.out.printf("engine (KV %s): %d of %d requests token-identical to KV %s; %.2fx the generated tok/s%n",
                            kvDtype, same, requests, kvDtypes.get(0), gen / engineGen);
                }
            }

            NaiveGenerator naive = new NaiveGenerator(loaded.model(), loaded.eosTokenIds());
            long naiveGenerated = 0;
            long naivePrompt = 0;
            long n0 = System.nanoTime();
            for (int r = 0; r < naiveSample; r++) {
                int idx = r * (requests / naiveSample);
                int[] tokens = naive.generate(prompts.get(idx), params.get(idx)).tokenIds();
                if (kvDtypes.get(0) == DType.F32 && !Arrays.equals(tokens, engineTokens.get(idx))) {
                    throw new IllegalStateException("request " + idx + ": the engine and the naive path disagree");
                }
                naiveGenerated += tokens.length;
                naivePrompt += prompts.get(idx).length;
            }
            double naiveSeconds = (System.nanoTime() - n0) / 1e9;
            double naiveGen = naiveGenerated / naiveSeconds;
            double naiveTotal = (naiveGenerated + naivePrompt) / naiveSeconds;
            System.out.printf("naive  : %d of the requests one at a time:           %8.1f generated tok/s, %8.1f total tok/s%n",
                    naiveSample, naiveGen, naiveTotal);
            System.out.printf("ratio  : engine (KV %s) / naive = %.1fx generated, %.1fx total%n", kvDtypes.get(0),
                    engineGen / naiveGen, engineTotal / naiveTotal);
        }
    }
}
