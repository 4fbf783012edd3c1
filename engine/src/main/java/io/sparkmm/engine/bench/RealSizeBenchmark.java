package io.sparkmm.engine.bench;

import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.cache.ProcessorCache;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * CPU speed at a real model size: Qwen2-0.5B's configuration with random BF16 weights (written
 * once into {@code --model DIR}), through the engine. Each variant of the matmul path ({@code
 * -Dsparkmm.simd.gemm=dot}, the dot-product kernels, {@code packed}, the outer-product kernels
 * over packed weights, and on request {@code legacy}, the kernels before issue 18) runs in its own
 * child JVM with the same flags, alternating dot/packed/packed/dot over the rounds, and each child measures, in this order: the machine's streaming-read bandwidth with as
 * many readers as engine threads ({@link ReadBandwidth}), batch-1 decode tokens/s, the bandwidth
 * again, prefill tokens/s, and the generated tokens/s of 64 concurrent requests, with its heap,
 * direct and peak-RSS high-water marks. Decode is set against the roofline of that child: read
 * bandwidth / weight bytes read per token. Bandwidth, decode and prefill are each the best of
 * several reps (on a shared machine other load only slows a rep down); the 64-request run is
 * one. Every run of a variant must produce the same greedy tokens; dot and legacy sum in the same
 * order, packed in another (one FMA chain per element), so its tokens are compared, not required
 * equal.
 * <pre>
 *   java --add-modules jdk.incubator.vector -Xmx4g -XX:MaxDirectMemorySize=1g \
 *       -cp engine/target/sparkmm-cli.jar io.sparkmm.engine.bench.RealSizeBenchmark [--rounds 2]
 * </pre>
 */
public final class RealSizeBenchmark {

    private static final String RESULT = "RESULT ";
    /** VectorBackend.GEMM_PROPERTY, not referenced so this class loads without the Vector API module. */
    private static final String GEMM_PROPERTY = "sparkmm.simd.gemm";

    private RealSizeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Path model = RandomCheckpoint.ensure(o.model, RandomCheckpoint.QWEN2_0_5B, RandomCheckpoint.QWEN2_VOCAB);
        if (o.child != null) {
            child(o, model);
            return;
        }
        System.out.printf("real-size benchmark: Qwen2-0.5B config, random BF16 weights in %s; %d threads, %d cpus, JVM %s%n",
                model, o.threads, Runtime.getRuntime().availableProcessors(), Runtime.version());
        List<String> order = new ArrayList<>();
        for (int r = 0; r < o.rounds; r++) {
            List<String> round = new ArrayList<>(o.variants);
            if (r % 2 == 1) {
                java.util.Collections.reverse(round);
            }
            order.addAll(round);
        }
        Map<String, List<Map<String, String>>> results = new LinkedHashMap<>();
        for (String v : o.variants) {
            results.put(v, new ArrayList<>());
        }
        for (String variant : order) {
            Map<String, String> r = runChild(variant, args);
            results.get(variant).add(r);
            System.out.printf("  %-7s bw %6.2f GB/s  decode %6.2f tok/s = %5.1f%% of roofline %6.2f  prefill %7.1f tok/s"
                            + "  %d requests %7.1f gen tok/s  live heap %5.0f MiB  direct %5.0f MiB  rss %5.0f MiB%n",
                    variant, d(r, "bw_gbs"), d(r, "decode_tps"), 100 * d(r, "decode_tps") / d(r, "roofline_tps"),
                    d(r, "roofline_tps"), d(r, "prefill_tps"), o.requests, d(r, "throughput_tps"), d(r, "heap_live_mib"),
                    d(r, "direct_peak_mib"), d(r, "rss_peak_mib"));
        }
        report(o, results);
    }

    private static void report(Options o, Map<String, List<Map<String, String>>> results) {
        String[] keys = {"bw_gbs", "roofline_tps", "decode_tps", "decode_pct", "prefill_tps", "throughput_tps",
            "heap_live_mib", "heap_peak_mib", "direct_peak_mib", "rss_peak_mib"};
        String[] labels = {"read bandwidth (GB/s)", "decode roofline (tok/s)", "batch-1 decode (tok/s)",
            "decode / roofline (%)", "prefill, 512-token prompt (tok/s)", o.requests + " requests (generated tok/s)",
            "live heap after GC (MiB)", "peak heap, with garbage (MiB)", "peak direct (MiB)",
            "peak RSS, with 512 MiB probe (MiB)"};
        System.out.printf("%nmedians over %d rounds (weight bytes read per decode token: %.1f MB)%n", o.rounds,
                d(results.values().iterator().next().get(0), "bytes_per_token") / 1e6);
        StringBuilder head = new StringBuilder(String.format("| %-34s", "metric"));
        for (String v : results.keySet()) {
            head.append(String.format(" | %9s", v));
        }
        boolean ratio = results.containsKey("dot") && results.containsKey("packed");
        System.out.println(head + (ratio ? " | packed/dot |" : " |"));
        for (int i = 0; i < keys.length; i++) {
            StringBuilder line = new StringBuilder(String.format("| %-34s", labels[i]));
            for (List<Map<String, String>> rs : results.values()) {
                line.append(String.format(" | %9.2f", median(rs, keys[i])));
            }
            if (ratio) {
                line.append(String.format(" | %9.2fx", median(results.get("packed"), keys[i])
                        / median(results.get("dot"), keys[i])));
            }
            System.out.println(line + " |");
        }
        Map<String, String> tokensOf = new LinkedHashMap<>();
        for (Map.Entry<String, List<Map<String, String>>> e : results.entrySet()) {
            for (Map<String, String> r : e.getValue()) {
                String previous = tokensOf.putIfAbsent(e.getKey(), r.get("tokens_hash"));
                if (previous != null && !previous.equals(r.get("tokens_hash"))) {
                    throw new IllegalStateException("two runs of " + e.getKey() + " produced different tokens");
                }
            }
        }
        System.out.println("greedy tokens identical in every run of each variant; per variant: " + tokensOf
                + (tokensOf.values().stream().distinct().count() == 1 ? " (all variants agree)"
                : " (the variants differ: packed sums each element in another order)"));
    }

    private static Map<String, String> runChild(String variant, String[] args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-D" + GEMM_PROPERTY + "=")) {
                cmd.add(a);
            }
        }
        cmd.add("-D" + GEMM_PROPERTY + "=" + variant);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(RealSizeBenchmark.class.getName());
        cmd.addAll(Arrays.asList(args));
        cmd.add("--child");
        cmd.add(variant);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Map<String, String> result = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith(RESULT)) {
                    result = new LinkedHashMap<>();
                    for (String kv : line.substring(RESULT.length()).trim().split(" ")) {
                        int eq = kv.indexOf('=');
                        result.put(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                } else if (!line.contains("incubator modules")) {
                    System.out.println("    [" + variant + "] " + line);
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0 || result == null) {
            throw new IllegalStateException("the " + variant + " run failed (exit " + rc + ")");
        }
        return result;
    }

    private static void child(Options o, Path model) throws Exception {
        // before the model, and for the whole run: its size is taken off the heap peak
        ReadBandwidth probe = new ReadBandwidth(512L << 20);
        try (MemoryWatch memory = MemoryWatch.start();
             LoadedModel loaded = LoadedModel.openOwning(model, Backends.open("cpu", o.threads))) {
            ModelConfig c = loaded.model().languageModel().config();
            double bytesPerToken = WeightBytes.perDecodeToken(c, 2);
            EngineOptions options = EngineOptions.defaults().withEngine(EngineConfig.defaults()
                    .withPrefixCaching(false).withKvCacheBytes(o.kvBytes));
            Random rnd = new Random(18);
            try (EngineSession session = EngineSession.over(loaded, options, new ProcessorCache(0))) {
                System.out.println("backend " + loaded.backend().name());
                // warm-up: the JIT compiles every kernel path (decode rows, prefill tiles) first
                run(session, List.of(prompt(rnd, 200, c.vocabSize())), 8);
                run(session, prompts(rnd, 8, 32, c.vocabSize()), 8);

                double bw0 = probe.measure(o.threads, 9);
                // A one-token prompt, so the first token costs one step like the others: each rep's
                // rate is decodeTokens steps over (time to 1 + decodeTokens tokens - time to 1), a
                // window as short as the bandwidth passes so both have the same odds of a quiet machine.
                int[] decodePrompt = prompt(rnd, 1, c.vocabSize());
                double[] rates = new double[o.decodeReps];
                StringBuilder tokens = new StringBuilder();
                for (int rep = 0; rep < rates.length; rep++) {
                    Run first = run(session, List.of(decodePrompt), 1);
                    Run full = run(session, List.of(decodePrompt), 1 + o.decodeTokens);
                    rates[rep] = o.decodeTokens / (full.seconds - first.seconds);
                    if (rep == 0) {
                        tokens.append(Arrays.toString(full.tokens.get(0)));
                    }
                }
                double bw1 = probe.measure(o.threads, 9);
                double bw = Math.max(bw0, bw1);

                double[] prefill = new double[3];
                for (int rep = 0; rep < prefill.length; rep++) {
                    Run r = run(session, List.of(prompt(rnd, o.prefillTokens, c.vocabSize())), 1);
                    prefill[rep] = o.prefillTokens / r.seconds;
                }
                Run many = run(session, prompts(rnd, o.requests, o.promptTokens, c.vocabSize()), o.genTokens);
                long generated = many.tokens.stream().mapToLong(t -> t.length).sum();
                for (int[] t : many.tokens) {
                    tokens.append(Arrays.toString(t));
                }
                Arrays.sort(rates);
                Arrays.sort(prefill);
                // best of the reps, like the bandwidth: other load only ever slows a rep down
                double decode = rates[rates.length - 1];
                double roofline = bw * 1e9 / bytesPerToken;
                MemoryWatch.Peaks peaks = memory.peaks();
                System.out.printf(RESULT + "bw_gbs=%.3f bytes_per_token=%.0f roofline_tps=%.3f decode_tps=%.3f decode_pct=%.2f "
                                + "prefill_tps=%.2f throughput_tps=%.2f heap_peak_mib=%.0f heap_live_mib=%.0f direct_peak_mib=%.0f "
                                + "rss_peak_mib=%.0f tokens_hash=%08x%n",
                        bw, bytesPerToken, roofline, decode, 100 * decode / roofline, prefill[prefill.length - 1],
                        generated / many.seconds, (peaks.heapBytes() - probe.bytes()) / 1048576.0,
                        (peaks.liveHeapBytes() - probe.bytes()) / 1048576.0, peaks.directBytes() / 1048576.0,
                        peaks.rssBytes() / 1048576.0, tokens.toString().hashCode());
            }
        }
    }

    private record Run(List<int[]> tokens, double seconds) {
    }

    private static Run run(EngineSession session, List<int[]> prompts, int maxTokens) throws Exception {
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
        long t0 = System.nanoTime();
        List<RequestHandle> handles = new ArrayList<>();
        for (int[] p : prompts) {
            handles.add(session.engine().submit(EngineRequest.of(p, params)));
        }
        List<int[]> tokens = new ArrayList<>();
        for (RequestHandle h : handles) {
            tokens.add(h.result().get().tokenIds());
        }
        return new Run(tokens, (System.nanoTime() - t0) / 1e9);
    }

    private static List<int[]> prompts(Random rnd, int count, int length, int vocab) {
        List<int[]> ps = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ps.add(prompt(rnd, length, vocab));
        }
        return ps;
    }

    private static int[] prompt(Random rnd, int length, int vocab) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = rnd.nextInt(vocab);
        }
        return p;
    }

    private static double d(Map<String, String> r, String key) {
        return Double.parseDouble(r.get(key));
    }

    private static double median(List<Map<String, String>> rs, String key) {
        double[] v = rs.stream().mapToDouble(r -> d(r, key)).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static final class Options {
        Path model = Path.of("target", "bench-qwen2-0.5b-random");
        int rounds = 2;
        int threads = Backends.defaultThreads();
        int decodeTokens = 6;
        int decodeReps = 15;
        int prefillTokens = 512;
        int requests = 64;
        int promptTokens = 32;
        int genTokens = 16;
        long kvBytes = 512L << 20;
        List<String> variants = List.of("dot", "packed");
        String child;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--child")) {
                    o.child = args[++i];
                    continue;
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("option " + a + " needs a value");
                }
                String v = args[++i];
                switch (a) {
                    case "--model" -> o.model = Path.of(v);
                    case "--rounds" -> o.rounds = Integer.parseInt(v);
                    case "--threads" -> o.threads = Integer.parseInt(v);
                    case "--decode-tokens" -> o.decodeTokens = Integer.parseInt(v);
                    case "--decode-reps" -> o.decodeReps = Integer.parseInt(v);
                    case "--prefill-tokens" -> o.prefillTokens = Integer.parseInt(v);
                    case "--requests" -> o.requests = Integer.parseInt(v);
                    case "--prompt-tokens" -> o.promptTokens = Integer.parseInt(v);
                    case "--gen-tokens" -> o.genTokens = Integer.parseInt(v);
                    case "--kv-cache-bytes" -> o.kvBytes = Long.parseLong(v);
                    case "--variants" -> o.variants = List.of(v.split(","));
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            return o;
        }
    }
}
