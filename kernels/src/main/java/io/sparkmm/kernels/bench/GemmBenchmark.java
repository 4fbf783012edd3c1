package io.sparkmm.kernels.bench;

import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.kernels.cpu.Half;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

/**
 * GEMM throughput (2*n*m*k / time) of devices "cpu-reference" and "cpu" (the SIMD backend) with
 * 1 and 2 threads, side by side. Not a test: run it by hand,
 * {@code mvn -q -pl kernels compile exec:exec -Dexec.executable=java -Dexec.args="--add-modules
 * jdk.incubator.vector -cp %classpath io.sparkmm.kernels.bench.GemmBenchmark"} (the classpath
 * holds slf4j-api, which {@link Backends} logs through).
 * Each timing is the median of several reps after warm-up; a rep repeats the call until it lasts
 * long enough for the clock, so tiny decode-like shapes are measured too.
 */
public final class GemmBenchmark {

    /** {n, k, m}: decode-like, a prefill chunk, a wider MLP-like prefill. */
    private static final int[][] SHAPES = {{1, 1024, 1024}, {64, 1024, 1024}, {256, 512, 2048}};
    private static final DType[] DTYPES = {DType.F32, DType.BF16};
    private static final long MIN_REP_NANOS = 20_000_000L;

    private GemmBenchmark() {
    }

    public static void main(String[] args) {
        Backend[] backends = {
            Backends.open("cpu-reference", 1),
            Backends.open("cpu", 1),
            Backends.open("cpu", 2),
        };
        System.out.printf("GEMM GFLOP/s, median of reps; JVM %s, %d cpus%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors());
        System.out.printf("%-16s %-5s %10s %24s %24s%n", "n x k x m", "dtype",
                backends[0].name(), backends[1].name(), backends[2].name());
        Random random = new Random(42);
        for (int[] shape : SHAPES) {
            for (DType dtype : DTYPES) {
                double[] gflops = new double[backends.length];
                for (int b = 0; b < backends.length; b++) {
                    gflops[b] = measure(backends[b], shape, dtype, random, b == 0 ? 3 : 7);
                }
                System.out.printf("%-16s %-5s %10.2f %15.2f (%5.1fx) %15.2f (%5.1fx)%n",
                        shape[0] + "x" + shape[1] + "x" + shape[2], dtype, gflops[0],
                        gflops[1], gflops[1] / gflops[0], gflops[2], gflops[2] / gflops[0]);
            }
        }
        for (Backend b : backends) {
            b.close();
        }
    }

    private static double measure(Backend be, int[] shape, DType dtype, Random random, int reps) {
        int n = shape[0];
        int k = shape[1];
        int m = shape[2];
        float[] xs = new float[n * k];
        float[] ws = new float[m * k];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < ws.length; i++) {
            ws[i] = (float) (random.nextGaussian() * 0.05);
        }
        try (Tensor x = be.upload(xs, n, k);
             Tensor w = be.weight(dtype, encode(ws, dtype), m, k);
             Tensor out = be.zeros(n, m)) {
            // warm-up: let the JIT compile the kernels before timing
            long warmEnd = System.nanoTime() + 300_000_000L;
            int calls = 0;
            while (calls < 2 || System.nanoTime() < warmEnd) {
                be.matmul(x, w, null, out);
                calls++;
            }
            double[] secondsPerCall = new double[reps];
            for (int r = 0; r < reps; r++) {
                long start = System.nanoTime();
                int count = 0;
                long elapsed;
                do {
                    be.matmul(x, w, null, out);
                    count++;
                    elapsed = System.nanoTime() - start;
                } while (elapsed < MIN_REP_NANOS);
                secondsPerCall[r] = elapsed / 1e9 / count;
            }
            Arrays.sort(secondsPerCall);
            return 2.0 * n * m * k / secondsPerCall[reps / 2] / 1e9;
        }
    }

    private static ByteBuffer encode(float[] values, DType dtype) {
        ByteBuffer bb = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> bb.putFloat(v);
                case F16 -> bb.putShort(Half.fromFloat(v));
                case BF16 -> bb.putShort(Half.bf16FromFloat(v));
            }
        }
        return bb.flip();
    }
}
