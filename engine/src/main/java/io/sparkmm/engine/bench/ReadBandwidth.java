package io.sparkmm.engine.bench;

import java.util.Arrays;
import java.util.concurrent.CyclicBarrier;

/**
 * This machine's streaming-read bandwidth: {@code readers} threads each sum their contiguous
 * share of one array far larger than the caches with four independent 64-bit sums (8 bytes per
 * add: the loop outruns memory, so memory is what is measured), as a decode kernel streams its
 * weights. The roofline of a
 * weight-bound decode step is this divided by the bytes it reads.
 */
final class ReadBandwidth {

    private final long[] data;

    /** Allocates (and touches every page of) the array read: {@code bytes} of heap for the process's life. */
    ReadBandwidth(long bytes) {
        data = new long[(int) (bytes / 8)];
        Arrays.fill(data, 1);
    }

    long bytes() {
        return data.length * 8L;
    }

    /** Best GB/s (1e9 bytes) of {@code passes} passes over the array. */
    double measure(int readers, int passes) throws Exception {
        double[] rates = new double[passes];
        long[] sums = new long[readers];
        for (int pass = 0; pass < passes; pass++) {
            CyclicBarrier start = new CyclicBarrier(readers + 1);
            CyclicBarrier end = new CyclicBarrier(readers + 1);
            Thread[] threads = new Thread[readers];
            for (int t = 0; t < readers; t++) {
                int id = t;
                int from = (int) ((long) data.length * t / readers);
                int to = (int) ((long) data.length * (t + 1) / readers);
                threads[t] = new Thread(() -> {
                    try {
                        start.await();
                        sums[id] += sum(data, from, to);
                        end.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                threads[t].setDaemon(true);
                threads[t].start();
            }
            start.await();
            long t0 = System.nanoTime();
            end.await();
            rates[pass] = (double) data.length * 8 / (System.nanoTime() - t0);
            for (Thread t : threads) {
                t.join();
            }
        }
        if (Arrays.stream(sums).sum() == 42) {
            System.out.print(""); // keeps the sums alive
        }
        Arrays.sort(rates);
        return rates[passes - 1];
    }

    private static long sum(long[] a, int from, int to) {
        long s0 = 0;
        long s1 = 0;
        long s2 = 0;
        long s3 = 0;
        int i = from;
        for (; i + 4 <= to; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < to; i++) {
            s0 += a[i];
        }
        return s0 + s1 + s2 + s3;
    }
}
