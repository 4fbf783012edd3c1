package io.sparkmm.kernels.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.TestData;
import io.sparkmm.kernels.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.DoubleStream;

/**
 * GEMM GFLOP/s side by side with ONNX Runtime's CPU MatMul, on the matmul shapes of Qwen2-0.5B
 * (hidden 896, 14 heads / 2 KV heads of 64, intermediate 4864, vocab 151,936): decode n = 1..64
 * and prefill n = 512, F32 activations, F32 and BF16 weights, 1 and 2 threads; also our kernels
 * as they were before the packed kernels ({@code -Dsparkmm.simd.gemm=dot}) in the same run.
 * ORT has no BF16 MatMul on CPU, so the BF16 rows are set against ORT with F32 weights (holding
 * the same BF16-rounded values): the same math, with twice the weight bytes for ORT to read.
 * ORT's model is a one-node MatMul graph with the weight as an initializer, written in Java
 * ({@link OnnxMatMulModel}); its output tensor is preallocated and pinned, so neither side
 * allocates per call. Before and after each thread count's rows it measures the F32 FMA peak those
 * threads reach ({@link FmaPeak}), and its summary gives ours/ORT medians for the decode shapes
 * (n &lt;= 4) and the compute-bound ones (n &gt;= 8), the latter also as fractions of that peak.
 * A test-scope main (after {@code mvn -o -q -pl kernels test-compile}):
 * <pre>
 *   mvn -o -q -pl kernels exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *     -Dexec.args="--add-modules jdk.incubator.vector -Xmx4g -cp %classpath io.sparkmm.kernels.bench.OrtGemmBenchmark"
 * </pre>
 * Options: {@code --n 1,2,4,8,16,32,64,512 --threads 1,2 --no-lm-head --no-before}; {@code -DortSpins=false}
 * stops ORT's intra-op threads spinning between runs (they spin by default, as ours do).
 */
public final class OrtGemmBenchmark {

    private static final long SETTLE_MILLIS = 50;

    private record Shape(String name, int k, int m) {
    }

    private static final Shape[] SHAPES = {
        new Shape("q_proj/o_proj", 896, 896),
        new Shape("k_proj/v_proj", 896, 128),
        new Shape("gate/up_proj", 896, 4864),
        new Shape("down_proj", 4864, 896),
        new Shape("lm_head", 896, 151936),
    };
    private static final long MIN_REP_NANOS = 20_000_000L;
    private static final int REPS = 7;
    private static final String GEMM_PROPERTY = "sparkmm.simd.gemm";

    private OrtGemmBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int[] ns = {1, 2, 4, 8, 16, 32, 64, 512};
        int[] threadCounts = {1, 2};
        boolean lmHead = true;
        boolean ortSpins = !"false".equals(System.getProperty("ortSpins"));
        boolean legacy = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--n" -> ns = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--threads" -> threadCounts = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--no-lm-head" -> lmHead = false;
                case "--no-before" -> legacy = false;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        System.out.printf("GEMM GFLOP/s (2nmk / time, best of %d interleaved reps), ours vs ONNX Runtime %s CPU MatMul; JVM %s, %d cpus%n",
                REPS, env.getVersion(), Runtime.version(), Runtime.getRuntime().availableProcessors());
        System.out.println("BF16 rows: our BF16 weights vs ORT's F32 MatMul over the same (BF16-rounded) values");
        System.out.println("| shape | k x m | n | threads | ORT F32 | ours F32 | vs ORT | ours BF16 | vs ORT"
                + (legacy ? " | before F32 | before BF16" : "") + " |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:" + (legacy ? "|---:|---:" : "") + "|");
        List<Row> rows = new ArrayList<>();
        Map<Integer, double[]> peaks = new TreeMap<>();
        Random random = new Random(18);
        for (int threads : threadCounts) {
            double peakBefore = FmaPeak.gflops(threads);
            Backend ours = Backends.open("cpu", threads);
            Backend before = null;
            if (legacy) {
                System.setProperty(GEMM_PROPERTY, "dot");
                before = Backends.open("cpu", threads);
                System.clearProperty(GEMM_PROPERTY);
            }
            warmUp(ours, before, ns);
            for (Shape s : SHAPES) {
                if (!lmHead && s.name().equals("lm_head")) {
                    continue;
                }
                float[] w = TestData.gaussian(random, s.m() * s.k(), 1 / Math.sqrt(s.k()));
                float[] wBf16 = TestData.rounded(w, DType.BF16);
                try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                    so.setIntraOpNumThreads(threads);
                    so.setInterOpNumThreads(1);
                    if (!ortSpins) {
                        so.addConfigEntry("session.intra_op.allow_spinning", "0");
                    }
                    so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    try (OrtSession session = env.createSession(OnnxMatMulModel.of(wBf16, s.m(), s.k()), so);
                         Tensor wF32 = ours.weight(DType.F32, TestData.encode(w, DType.F32), s.m(), s.k());
                         Tensor wB = ours.weight(DType.BF16, TestData.encode(w, DType.BF16), s.m(), s.k());
                         Tensor wF32Before = before == null ? null : before.weight(DType.F32, TestData.encode(w, DType.F32), s.m(), s.k());
                         Tensor wBBefore = before == null ? null : before.weight(DType.BF16, TestData.encode(w, DType.BF16), s.m(), s.k())) {
                        for (int n : ns) {
                            if (s.name().equals("lm_head") && n > 64) {
                                continue; // logits are computed for sampled rows only, never a whole prompt
                            }
                            double flops = 2.0 * n * s.k() * s.m();
                            float[] x = TestData.gaussian(random, n * s.k(), 1);
                            List<Call> calls = new ArrayList<>();
                            calls.add(ortCall(env, session, x, n, s));
                            calls.add(ourCall(ours, wF32, x, n, s));
                            calls.add(ourCall(ours, wB, x, n, s));
                            if (before != null) {
                                calls.add(ourCall(before, wF32Before, x, n, s));
                                calls.add(ourCall(before, wBBefore, x, n, s));
                            }
                            double[] seconds = bestSeconds(calls);
                            for (Call c : calls) {
                                c.close();
                            }
                            double ort = flops / seconds[0] / 1e9;
                            double f32 = flops / seconds[1] / 1e9;
                            double bf16 = flops / seconds[2] / 1e9;
                            StringBuilder line = new StringBuilder(String.format(
                                    "| %s | %d x %d | %d | %d | %.2f | %.2f | %.2fx | %.2f | %.2fx", s.name(), s.k(), s.m(),
                                    n, threads, ort, f32, f32 / ort, bf16, bf16 / ort));
                            if (before != null) {
                                line.append(String.format(" | %.2f | %.2f", flops / seconds[3] / 1e9, flops / seconds[4] / 1e9));
                            }
                            System.out.println(line + " |");
                            rows.add(new Row(threads, n, ort, f32, bf16));
                        }
                    }
                }
            }
            ours.close();
            if (before != null) {
                before.close();
            }
            peaks.put(threads, new double[] {peakBefore, FmaPeak.gflops(threads)});
        }
        double[] r = rows.stream().flatMapToDouble(x -> DoubleStream.of(x.f32() / x.ort(), x.bf16() / x.ort()))
                .sorted().toArray();
        System.out.printf("ours / ORT over all rows: min %.2fx, median %.2fx, max %.2fx%n", r[0], r[r.length / 2], r[r.length - 1]);
        for (Map.Entry<Integer, double[]> e : peaks.entrySet()) {
            int threads = e.getKey();
            double peak = Math.max(e.getValue()[0], e.getValue()[1]);
            List<Row> decode = rows.stream().filter(x -> x.threads() == threads && x.n() <= 4).toList();
            List<Row> bound = rows.stream().filter(x -> x.threads() == threads && x.n() > 4).toList();
            System.out.printf("%d thread(s): F32 FMA peak %.1f GFLOP/s before the rows, %.1f after (FmaPeak: 16 register"
                    + " chains per thread; the larger is the peak below)%n", threads, e.getValue()[0], e.getValue()[1]);
            System.out.printf("  n <= 4 (%d shapes): ours/ORT median F32 %.2fx, BF16 %.2fx%n", decode.size(),
                    median(decode, x -> x.f32() / x.ort()), median(decode, x -> x.bf16() / x.ort()));
            System.out.printf("  n >= 8 (%d shapes): ours/ORT median F32 %.2fx, BF16 %.2fx; of the FMA peak, median"
                    + " ORT %.0f%%, ours F32 %.0f%%, BF16 %.0f%%%n", bound.size(),
                    median(bound, x -> x.f32() / x.ort()), median(bound, x -> x.bf16() / x.ort()),
                    100 * median(bound, x -> x.ort() / peak), 100 * median(bound, x -> x.f32() / peak),
                    100 * median(bound, x -> x.bf16() / peak));
        }
    }

    /** One table row's GFLOP/s: ORT, ours with F32 weights, ours with BF16 weights. */
    private record Row(int threads, int n, double ort, double f32, double bf16) {
    }

    private static double median(List<Row> rows, ToDoubleFunction<Row> f) {
        double[] v = rows.stream().mapToDouble(f).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * Every kernel the table will time, run for a while before the first row: on a 2-core machine
     * the JIT compiling them in the background otherwise slows the first rows' reps.
     */
    private static void warmUp(Backend ours, Backend before, int[] ns) {
        Random random = new Random(1);
        float[] w = TestData.gaussian(random, 896 * 896, 0.03);
        for (Backend be : before == null ? List.of(ours) : List.of(ours, before)) {
            for (DType dtype : List.of(DType.F32, DType.BF16)) {
                try (Tensor wt = be.weight(dtype, TestData.encode(w, dtype), 896, 896)) {
                    for (int n : ns) {
                        try (Call c = ourCall(be, wt, TestData.gaussian(random, n * 896, 1), n, new Shape("warm-up", 896, 896))) {
                            long end = System.nanoTime() + 150_000_000L;
                            while (System.nanoTime() < end) {
                                c.run();
                            }
                        }
                    }
                }
            }
        }
    }

    /** One timed operation and what it holds (native tensors, outputs). */
    private interface Call extends AutoCloseable {
        void run();

        @Override
        void close();
    }

    private static Call ortCall(OrtEnvironment env, OrtSession session, float[] x, int n, Shape s) throws OrtException {
        FloatBuffer in = ByteBuffer.allocateDirect(4 * x.length).order(ByteOrder.nativeOrder()).asFloatBuffer().put(x);
        in.rewind();
        FloatBuffer outBuf = ByteBuffer.allocateDirect(4 * n * s.m()).order(ByteOrder.nativeOrder()).asFloatBuffer();
        OnnxTensor xt = OnnxTensor.createTensor(env, in, new long[] {n, s.k()});
        OnnxTensor yt = OnnxTensor.createTensor(env, outBuf, new long[] {n, s.m()});
        Map<String, OnnxTensor> inputs = Map.of("x", xt);
        Map<String, OnnxTensor> outputs = Map.of("y", yt);
        return new Call() {
            @Override
            public void run() {
                try {
                    session.run(inputs, outputs).close();
                } catch (OrtException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public void close() {
                xt.close();
                yt.close();
            }
        };
    }

    private static Call ourCall(Backend be, Tensor w, float[] x, int n, Shape s) {
        Tensor xt = be.upload(x, n, s.k());
        Tensor out = be.zeros(n, s.m());
        return new Call() {
            @Override
            public void run() {
                be.matmul(xt, w, null, out);
            }

            @Override
            public void close() {
                xt.close();
                out.close();
            }
        };
    }

    /**
     * Seconds per call of each of {@code calls}: after 200 ms of warm-up each, {@link #REPS} rounds
     * that run every call in turn (in a rotated order) for at least 20 ms; a call's time is its
     * fastest round. On a
     * shared machine the others' load only ever slows a round down, so the fastest round is the
     * closest to the machine alone, and interleaving gives every call the same chances.
     */
    private static double[] bestSeconds(List<Call> calls) {
        for (Call c : calls) {
            long warmEnd = System.nanoTime() + 200_000_000L;
            int count = 0;
            while (count < 2 || System.nanoTime() < warmEnd) {
                c.run();
                count++;
            }
        }
        double[] best = new double[calls.size()];
        Arrays.fill(best, Double.MAX_VALUE);
        for (int r = 0; r < REPS; r++) {
            for (int turn = 0; turn < calls.size(); turn++) {
                // each round starts one later: ORT's intra-op threads spin for a while after a run,
                // and that must not always fall on the call that follows it
                int i = (turn + r) % calls.size();
                settle();
                long start = System.nanoTime();
                int count = 0;
                long elapsed;
                do {
                    calls.get(i).run();
                    count++;
                    elapsed = System.nanoTime() - start;
                } while (elapsed < MIN_REP_NANOS);
                best[i] = Math.min(best[i], elapsed / 1e9 / count);
            }
        }
        return best;
    }

    /**
     * A pause before each rep: ORT's intra-op threads spin after a run, and so do ours, and on a
     * 2-core machine a contender's spinning threads would take a core from the next one's rep.
     * Each rep starts with both pools parked instead (its first call pays one wake-up).
     */
    private static void settle() {
        try {
            Thread.sleep(SETTLE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
