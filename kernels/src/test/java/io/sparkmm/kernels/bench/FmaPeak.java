package io.sparkmm.kernels.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's F32 FMA peak as the JVM reaches it: per thread, 16 independent chains of vector
 * FMAs on registers (no loads, no stores), enough chains in flight to cover the FMA latency on
 * every port. A compute-bound GEMM cannot beat it, so it says how much any GEMM (ours or ORT's)
 * leaves on the table. Best of several rounds: other load only ever slows a round down.
 */
final class FmaPeak {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 16;
    private static final long ITERATIONS = 4_000_000;
    private static final int ROUNDS = 7;

    private FmaPeak() {
    }

    /** GFLOP/s of {@code threads} threads running FMAs at once (2 flops per lane per FMA). */
    static double gflops(int threads) throws Exception {
        for (int i = 0; i < 100; i++) {
            chains(100_000, 1f); // compiled before the first round
        }
        double best = 0;
        for (int r = 0; r < ROUNDS; r++) {
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            CyclicBarrier end = new CyclicBarrier(threads + 1);
            float[] sink = new float[threads];
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread w = new Thread(() -> {
                    try {
                        start.await();
                        sink[id] = chains(ITERATIONS, 1f + id);
                        end.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                w.setDaemon(true);
                w.start();
                workers.add(w);
            }
            start.await();
            long t0 = System.nanoTime();
            end.await();
            long nanos = System.nanoTime() - t0;
            for (Thread w : workers) {
                w.join();
            }
            if (Float.isNaN(sink[0])) {
                throw new IllegalStateException("the FMA chains overflowed");
            }
            best = Math.max(best, 2.0 * CHAINS * FS.length() * ITERATIONS * threads / nanos);
        }
        return best;
    }

    private static float chains(long iterations, float seed) {
        FloatVector a = FloatVector.broadcast(FS, seed);
        FloatVector b = FloatVector.broadcast(FS, 0.999f);
        FloatVector c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a;
        FloatVector c8 = a, c9 = a, c10 = a, c11 = a, c12 = a, c13 = a, c14 = a, c15 = a;
        for (long i = 0; i < iterations; i++) {
            c0 = c0.fma(b, a);
            c1 = c1.fma(b, a);
            c2 = c2.fma(b, a);
            c3 = c3.fma(b, a);
            c4 = c4.fma(b, a);
            c5 = c5.fma(b, a);
            c6 = c6.fma(b, a);
            c7 = c7.fma(b, a);
            c8 = c8.fma(b, a);
            c9 = c9.fma(b, a);
            c10 = c10.fma(b, a);
            c11 = c11.fma(b, a);
            c12 = c12.fma(b, a);
            c13 = c13.fma(b, a);
            c14 = c14.fma(b, a);
            c15 = c15.fma(b, a);
        }
        FloatVector s = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7)
                .add(c8).add(c9).add(c10).add(c11).add(c12).add(c13).add(c14).add(c15);
        return s.reduceLanes(VectorOperators.ADD);
    }
}
