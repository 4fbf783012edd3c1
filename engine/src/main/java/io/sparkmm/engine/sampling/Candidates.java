package io.sparkmm.engine.sampling;

import java.util.Arrays;

/**
 * Orders the tokens that top-k / top-p need, most likely first, without boxing and without
 * sorting the whole vocabulary when it can be avoided.
 *
 * <p>A token and its logit are packed into one {@code long} whose natural order is "higher logit
 * first, then lower id", so plain {@code long} comparisons and {@link Arrays#sort(long[])} give
 * the same total order the sampler has always used, and the result is reproducible.
 */
final class Candidates {

    private Candidates() {
    }

    static long key(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        // flip the magnitude bits of negatives: signed int order of `ordered` is then float order
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        // ~ reverses the order (higher logit -> smaller key); the id (>= 0) breaks ties upwards
        return ((long) ~ordered << 32) | id;
    }

    static int id(long key) {
        return (int) key;
    }

    /**
     * The (at most) k best tokens among those {@code eligible}, best first: a bounded max-heap of
     * keys whose root is the worst token kept, O(V log k) instead of a full sort.
     */
    static long[] topK(float[] logits, int k, Eligibility eligible) {
        long[] heap = new long[k];
        int n = 0;
        for (int i = 0; i < logits.length; i++) {
            if (!eligible.test(logits[i])) {
                continue;
            }
            long key = key(logits[i], i);
            if (n < k) {
                heap[n] = key;
                siftUp(heap, n++);
            } else if (key < heap[0]) {
                heap[0] = key;
                siftDown(heap, n);
            }
        }
        long[] out = Arrays.copyOf(heap, n);
        Arrays.sort(out);
        return out;
    }

    /** All eligible tokens whose logit is at least {@code floor}, best first. */
    static long[] atLeast(float[] logits, float floor, Eligibility eligible) {
        long[] out = new long[64];
        int n = 0;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] >= floor && eligible.test(logits[i])) {
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = key(logits[i], i);
            }
        }
        out = Arrays.copyOf(out, n);
        Arrays.sort(out);
        return out;
    }

    private static void siftUp(long[] heap, int i) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] >= heap[i]) {
                return;
            }
            swap(heap, parent, i);
            i = parent;
        }
    }

    private static void siftDown(long[] heap, int n) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= n) {
                return;
            }
            int big = l + 1 < n && heap[l + 1] > heap[l] ? l + 1 : l;
            if (heap[i] >= heap[big]) {
                return;
            }
            swap(heap, i, big);
            i = big;
        }
    }

    private static void swap(long[] a, int i, int j) {
        long t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    /** Whether a token with this (processed) logit survives min_p and masking. */
    @FunctionalInterface
    interface Eligibility {
        boolean test(float logit);
    }
}
