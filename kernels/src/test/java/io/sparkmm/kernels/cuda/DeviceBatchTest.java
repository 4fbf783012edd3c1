package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.PagedBatch;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The flattened batch the paged kernels read, against {@link PagedBatch}'s accessors. */
class DeviceBatchTest {

    /** Three segments: a 3-token prefill, a decode step at position 9, a 2-token chunk at 4..5; block size 4. */
    private static PagedBatch batch() {
        int[][] tables = {{7, 1}, {2, 5, 0, 9}, {3, 4}};
        int[] contextLens = {3, 10, 6};
        int[] queryStart = {0, 3, 4, 6};
        int[] slots = {7 * 4, 7 * 4 + 1, 7 * 4 + 2, 0 * 4 + 1, 4 * 4, 4 * 4 + 1};
        return new PagedBatch(4, queryStart, contextLens, tables, slots);
    }

    @Test
    void everyArrayMatchesTheBatch() {
        PagedBatch b = batch();
        DeviceBatch d = DeviceBatch.of(b);
        assertThat(d.tokens()).isEqualTo(6);
        assertThat(d.segments()).isEqualTo(3);
        assertThat(d.maxBlocks()).as("largest blocksUsed; spare blocks dropped").isEqualTo(3);
        assertThat(d.slice(d.slotsOffset(), 6)).containsExactly(b.slots());
        assertThat(d.slice(d.rowSegmentOffset(), 6)).containsExactly(0, 0, 0, 1, 2, 2);
        assertThat(d.slice(d.queryStartOffset(), 4)).containsExactly(b.queryStart());
        assertThat(d.slice(d.contextLensOffset(), 3)).containsExactly(b.contextLens());
        assertThat(d.slice(d.blockTablesOffset(), 9)).containsExactly(7, DeviceBatch.PAD, DeviceBatch.PAD, 2, 5, 0, 3, 4,
                DeviceBatch.PAD);
        assertThat(d.packed()).hasSize(6 + 6 + 4 + 3 + 9);
        for (int s = 0; s < b.segments(); s++) {
            for (int i = 0; i < b.blocksUsed(s); i++) {
                assertThat(d.packed()[d.blockTablesOffset() + s * d.maxBlocks() + i]).isEqualTo(b.block(s, i));
            }
        }
    }

    @Test
    void rowPositionsFollowFromTheArrays() {
        // what the kernel computes: p = context_len - seg_len + (r - query_start[s]); its slot must agree
        PagedBatch b = batch();
        DeviceBatch d = DeviceBatch.of(b);
        int[] a = d.packed();
        for (int r = 0; r < d.tokens(); r++) {
            int s = a[d.rowSegmentOffset() + r];
            int start = a[d.queryStartOffset() + s];
            int len = a[d.queryStartOffset() + s + 1] - start;
            int p = a[d.contextLensOffset() + s] - len + (r - start);
            int block = a[d.blockTablesOffset() + s * d.maxBlocks() + p / 4];
            assertThat(block * 4 + p % 4).as("row %d", r).isEqualTo(b.slot(r));
        }
    }

    @Test
    void anEmptyBatchFlattensToItsQueryStart() {
        DeviceBatch d = DeviceBatch.of(new PagedBatch(16, new int[] {0}, new int[0], new int[0][], new int[0]));
        assertThat(d.tokens()).isZero();
        assertThat(d.maxBlocks()).isZero();
        assertThat(d.packed()).containsExactly(0);
    }
}
