package io.sparkmm.engine.bench;

import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * Naive (full-recompute) generation tokens/s on the reference backend and the Vector API backend
 * at 1 and 2 threads, side by side in one run. A benchmark main, not a test:
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp engine/target/sparkmm-cli.jar \
 *       io.sparkmm.engine.bench.NaiveGenerationBenchmark [--model DIR] [--prompt-tokens N] [--new-tokens N]
 * </pre>
 * Without {@code --model} it writes a random Llama checkpoint (hidden 256, 4 layers, 8 query /
 * 4 KV heads, BF16) to a temporary directory. Every backend must produce the same tokens.
 */
public final class NaiveGenerationBenchmark {

    private NaiveGenerationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path model = null;
        int promptTokens = 16;
        int newTokens = 32;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[++i]);
                case "--prompt-tokens" -> promptTokens = Integer.parseInt(args[++i]);
                case "--new-tokens" -> newTokens = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (model == null) {
            model = Files.createTempDirectory("sparkmm-bench");
            TinyCheckpoint.write(model, new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.LLAMA, 256, 688, 4, 8, 4,
                    false, DType.BF16, 1, 4096, 10000.0, null));
        }
        int[] prompt = new int[promptTokens];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 32 + (i * 37) % 300;
        }
        SamplingParams greedy = SamplingParams.greedy(newTokens);
        System.out.printf("naive generation, %d prompt + %d new tokens, model %s, JVM %s, %d cpus%n",
                promptTokens, newTokens, model, System.getProperty("java.vm.version"),
                Runtime.getRuntime().availableProcessors());
        String[][] backends = {{"cpu-reference", "1"}, {"cpu", "1"}, {"cpu", "2"}};
        double referenceRate = 0;
        int[] referenceTokens = null;
        for (String[] b : backends) {
            try (Backend backend = Backends.open(b[0], Integer.parseInt(b[1]));
                 LoadedModel m = LoadedModel.open(model, backend)) {
                NaiveGenerator gen = new NaiveGenerator(m.model(), Set.of());
                gen.generate(prompt, SamplingParams.greedy(4)); // warm-up
                double best = 0;
                int[] tokens = null;
                for (int rep = 0; rep < 3; rep++) {
                    long t0 = System.nanoTime();
                    tokens = gen.generate(prompt, greedy).tokenIds();
                    double rate = tokens.length / ((System.nanoTime() - t0) / 1e9);
                    best = Math.max(best, rate);
                }
                if (referenceTokens == null) {
                    referenceTokens = tokens;
                    referenceRate = best;
                } else if (!Arrays.equals(referenceTokens, tokens)) {
                    throw new IllegalStateException(backend.name() + " generated different tokens than the reference");
                }
                System.out.printf("%-24s %8.1f tokens/s  (%5.1fx reference)%n", backend.name(), best, best / referenceRate);
            }
        }
    }
}
