package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.PagedBatch;

import java.util.Arrays;

/**
 * A {@link PagedBatch} flattened into the int arrays {@code sparkmm_kv_write} and
 * {@code sparkmm_paged_attention} read, packed into one array so a step costs one host-to-device
 * copy: {@code slots[T], rowSegment[T], queryStart[S + 1], contextLens[S], blockTables[S *
 * maxBlocks]}, in that order. Pure; unit-tested against the batch's accessors.
 *
 * <p>Block tables keep only the blocks covering each context (the kernels never read further),
 * so {@code maxBlocks} is the largest {@link PagedBatch#blocksUsed}; shorter rows are padded
 * with -1, so a kernel that read past a context would fault instead of attending to another
 * sequence's memory.
 */
public final class DeviceBatch {

    public static final int PAD = -1;

    private final int tokens;
    private final int segments;
    private final int maxBlocks;
    private final int[] packed;

    private DeviceBatch(int tokens, int segments, int maxBlocks, int[] packed) {
        this.tokens = tokens;
        this.segments = segments;
        this.maxBlocks = maxBlocks;
        this.packed = packed;
    }

    public static DeviceBatch of(PagedBatch batch) {
        int t = batch.tokens();
        int s = batch.segments();
        int maxBlocks = 0;
        for (int i = 0; i < s; i++) {
            maxBlocks = Math.max(maxBlocks, batch.blocksUsed(i));
        }
        long length = 2L * t + (s + 1L) + s + (long) s * maxBlocks;
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("pagedAttention: a batch of " + s + " segments x " + maxBlocks
                    + " blocks is too large to flatten");
        }
        int[] a = new int[(int) length];
        DeviceBatch d = new DeviceBatch(t, s, maxBlocks, a);
        for (int row = 0; row < t; row++) {
            a[d.slotsOffset() + row] = batch.slot(row);
        }
        for (int seg = 0; seg < s; seg++) {
            for (int row = batch.queryStart(seg); row < batch.queryStart(seg + 1); row++) {
                a[d.rowSegmentOffset() + row] = seg;
            }
            a[d.queryStartOffset() + seg] = batch.queryStart(seg);
            a[d.contextLensOffset() + seg] = batch.contextLen(seg);
            int base = d.blockTablesOffset() + seg * maxBlocks;
            Arrays.fill(a, base, base + maxBlocks, PAD);
            for (int i = 0; i < batch.blocksUsed(seg); i++) {
                a[base + i] = batch.block(seg, i);
            }
        }
        a[d.queryStartOffset() + s] = t;
        return d;
    }

    /** T, the query rows. */
    public int tokens() {
        return tokens;
    }

    /** S, the segments. */
    public int segments() {
        return segments;
    }

    /** Columns of the padded block table. */
    public int maxBlocks() {
        return maxBlocks;
    }

    /** The packed arrays; callers must not modify it. */
    public int[] packed() {
        return packed;
    }

    /** Offsets (in ints) of each array inside {@link #packed()}. */
    public int slotsOffset() {
        return 0;
    }

    public int rowSegmentOffset() {
        return tokens;
    }

    public int queryStartOffset() {
        return 2 * tokens;
    }

    public int contextLensOffset() {
        return 2 * tokens + segments + 1;
    }

    public int blockTablesOffset() {
        return 2 * tokens + 2 * segments + 1;
    }

    /** One array of the packed ones, copied, for tests and messages. */
    public int[] slice(int offset, int length) {
        return Arrays.copyOfRange(packed, offset, offset + length);
    }
}
