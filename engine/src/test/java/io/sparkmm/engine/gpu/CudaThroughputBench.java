package io.sparkmm.engine.gpu;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Throughput on {@code cuda:0} for checkpoints written by scripts/gpu-hf-bench.py (random-init
 * Qwen2-0.5B / 1.5B in BF16), run by scripts/gpu-check.sh through BENCH_MAIN:
 * {@code CudaThroughputBench OUT.csv [CHECKPOINT_DIR...]} (default: the two dirs the Python
 * script writes). A plain main in test scope, not a test: it measures, it asserts nothing.
 *
 * <p>Rows of the CSV: model, metric, value, unit. Metrics:
 * <ul>
 *   <li>decode_tok_s_batch1: one request, 512 prompt tokens; (129-token minus 1-token latency) / 128,
 *       so prefill cost cancels out;</li>
 *   <li>throughput_out_tok_s / throughput_total_tok_s: 256 requests of 512 in / 128 out submitted at
 *       once (the shape HF generate runs in the Python script), wall time over generated / all tokens;</li>
 *   <li>logits_max_abs_diff_vs_hf, argmax_agree_vs_hf: last-position logits of the Python script's 8
 *       prompts (prompts.json, ref_logits.f32) against the naive generator on cuda:0.</li>
 * </ul>
 * Token ids are random (no tokenizer is saved); ignoreEos keeps every output at exactly 128 tokens.
 */
public final class CudaThroughputBench {

    // the shape; overridable only so that a CPU smoke run here can exercise the code path
    static final int PROMPT = Integer.getInteger("sparkmm.bench.prompt", 512);
    static final int OUTPUT = Integer.getInteger("sparkmm.bench.output", 128);
    static final int REQUESTS = Integer.getInteger("sparkmm.bench.requests", 256);
    static final String BACKEND = System.getProperty("sparkmm.bench.backend", "cuda:0");

    private CudaThroughputBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: CudaThroughputBench OUT.csv [CHECKPOINT_DIR...]");
        }
        List<Path> dirs = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            dirs.add(Path.of(args[i]));
        }
        if (dirs.isEmpty()) {
            dirs = List.of(Path.of("/tmp/hf-bench/qwen2-0.5b"), Path.of("/tmp/hf-bench/qwen2-1.5b"));
        }
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(Path.of(args[0])));
             Backend gpu = Backends.open(BACKEND, 1)) {
            csv.println("model,metric,value,unit");
            for (Path dir : dirs) {
                if (!Files.exists(dir.resolve("config.json"))) {
                    // not written (the Python step failed or was skipped): say so in the CSV, go on
                    row(csv, dir, "missing_checkpoint", 1, "flag");
                    continue;
                }
                try (LoadedModel model = LoadedModel.open(dir, gpu)) {
                    bench(csv, dir, model);
                } catch (RuntimeException e) {
                    e.printStackTrace();
                    row(csv, dir, "error", 1, e.toString().replace(',', ';'));
                }
                csv.flush();
            }
        }
    }

    private static void bench(PrintWriter csv, Path dir, LoadedModel model) throws Exception {
        int vocab = model.textConfig().vocabSize();
        Random rnd = new Random(1);
        try (Engine engine = new Engine(model, EngineConfig.defaults().withPrefixCaching(false)
                // all 256 requests resident at once (256 x 40 blocks of 16) plus slack; a fixed pool
                // keeps the KV size comparable with HF's (which holds exactly its batch's cache)
                .withNumKvBlocks(REQUESTS * ((PROMPT + OUTPUT + 15) / 16) + 512))) {
            run(engine, List.of(prompt(rnd, vocab)), 16); // warm-up: kernels loaded, pool touched
            int[] p = prompt(rnd, vocab);
            long t1 = run(engine, List.of(p), 1);
            long t129 = run(engine, List.of(p), OUTPUT + 1);
            row(csv, dir, "decode_tok_s_batch1", OUTPUT / ((t129 - t1) / 1e9), "tok/s");
            row(csv, dir, "prefill_plus_1_ms_batch1", t1 / 1e6, "ms");
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                prompts.add(prompt(rnd, vocab));
            }
            long t = run(engine, prompts, OUTPUT);
            row(csv, dir, "throughput_out_tok_s", (double) REQUESTS * OUTPUT / (t / 1e9), "tok/s");
            row(csv, dir, "throughput_total_tok_s", (double) REQUESTS * (PROMPT + OUTPUT) / (t / 1e9), "tok/s");
            row(csv, dir, "wall_" + REQUESTS + "x" + PROMPT + "x" + OUTPUT + "_s", t / 1e9, "s");
        }
        compareWithHf(csv, dir, model, vocab);
    }

    private static int[] prompt(Random rnd, int vocab) {
        int[] ids = new int[PROMPT];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(Math.min(vocab, 150000)); // below Qwen2's special tokens (151643+)
        }
        return ids;
    }

    /** Submits all prompts at once, waits for all; nanoseconds of wall time. Fails on any error. */
    private static long run(Engine engine, List<int[]> prompts, int maxTokens) throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
        long start = System.nanoTime();
        List<RequestHandle> hs = new ArrayList<>();
        for (int[] p : prompts) {
            hs.add(engine.submit(EngineRequest.of(p, greedy)));
        }
        for (RequestHandle h : hs) {
            EngineResult r = h.result().get();
            if (!r.ok() || r.tokenIds().length != maxTokens) {
                throw new IllegalStateException("bench request failed: " + r.error() + ", " + r.tokenIds().length + " tokens");
            }
        }
        return System.nanoTime() - start;
    }

    /** The HF reference written by gpu-hf-bench.py: prompts.json (8 id lists) and ref_logits.f32 (8 x vocab, LE). */
    private static void compareWithHf(PrintWriter csv, Path dir, LoadedModel model, int vocab) throws IOException {
        Path prompts = dir.resolve("prompts.json"), logits = dir.resolve("ref_logits.f32");
        if (!Files.exists(prompts) || !Files.exists(logits)) {
            row(csv, dir, "missing_hf_reference", 1, "flag");
            return;
        }
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(prompts.toFile());
        ByteBuffer ref = ByteBuffer.wrap(Files.readAllBytes(logits)).order(ByteOrder.LITTLE_ENDIAN);
        NaiveGenerator naive = new NaiveGenerator(model.model(), model.eosTokenIds());
        double maxDiff = 0;
        int agree = 0;
        for (int i = 0; i < tree.size(); i++) {
            int[] ids = new int[tree.get(i).size()];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = tree.get(i).get(j).asInt();
            }
            float[] ours = naive.lastLogits(ids);
            int refArg = 0, ourArg = 0;
            for (int v = 0; v < vocab; v++) {
                float r = ref.getFloat((i * vocab + v) * 4);
                maxDiff = Math.max(maxDiff, Math.abs(r - ours[v]));
                refArg = r > ref.getFloat((i * vocab + refArg) * 4) ? v : refArg;
                ourArg = ours[v] > ours[ourArg] ? v : ourArg;
            }
            agree += refArg == ourArg ? 1 : 0;
        }
        row(csv, dir, "logits_max_abs_diff_vs_hf", maxDiff, "logit");
        row(csv, dir, "argmax_agree_vs_hf", agree, "of " + tree.size());
    }

    private static void row(PrintWriter csv, Path dir, String metric, double value, String unit) {
        String line = dir.getFileName() + "," + metric + "," + value + "," + unit;
        csv.println(line);
        csv.flush(); // a timeout mid-run still leaves the rows so far
        System.out.println(line);
    }
}
