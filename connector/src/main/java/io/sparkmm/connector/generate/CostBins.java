package io.sparkmm.connector.generate;

import java.util.PriorityQueue;

/**
 * Greedy placement of priced rows into {@code n} bins: each row goes to the bin with the least
 * cost so far, so the fullest bin ends at most one row's cost above the emptiest (list
 * scheduling). Fed largest first (the caller sorts), it is LPT scheduling, whose fullest bin is
 * within 4/3 of the best possible, and many small rows after the large ones even the bins out.
 *
 * <p>Every input partition places its own rows with its own bins (no coordination between tasks),
 * so ties are broken starting at a bin that depends on the partition ({@code rotation}): without
 * it every task would put its largest row into bin 0, and those excesses would add up there.
 * Pure logic, deterministic for a given order of rows.
 */
final class CostBins {

    private final long[] loads;
    private final int rotation;
    private final PriorityQueue<Integer> byLoad;

    CostBins(int n, int rotation) {
        if (n < 1) {
            throw new IllegalArgumentException("need at least one bin, got " + n);
        }
        this.loads = new long[n];
        this.rotation = Math.floorMod(rotation, n);
        this.byLoad = new PriorityQueue<>(n, (a, b) -> loads[a] != loads[b] ? Long.compare(loads[a], loads[b])
                : Integer.compare(Math.floorMod(a - this.rotation, n), Math.floorMod(b - this.rotation, n)));
        for (int i = 0; i < n; i++) {
            byLoad.add(i);
        }
    }

    /** The bin for a row of this cost (negative counts as 0); its load grows by the cost. */
    int place(long cost) {
        int bin = byLoad.poll();
        loads[bin] += Math.max(0, cost);
        byLoad.add(bin);
        return bin;
    }

    long load(int bin) {
        return loads[bin];
    }
}
