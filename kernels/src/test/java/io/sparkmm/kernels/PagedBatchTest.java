package io.sparkmm.kernels;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PagedBatch checks its arrays up front, each error naming what is wrong; it copies them in and out. */
class PagedBatchTest {

    /** Two segments, block size 4: a 3-token chunk ending at position 5 (blocks 7, 2) and one decode token at position 0 (block 5). */
    private static PagedBatch valid() {
        return new PagedBatch(4, new int[] {0, 3, 4}, new int[] {6, 1}, new int[][] {{7, 2}, {5, 9}},
                new int[] {7 * 4 + 3, 2 * 4, 2 * 4 + 1, 5 * 4});
    }

    @Test
    void describesItsSegments() {
        PagedBatch b = valid();
        assertThat(b.segments()).isEqualTo(2);
        assertThat(b.tokens()).isEqualTo(4);
        assertThat(b.segmentLength(0)).isEqualTo(3);
        assertThat(b.contextLen(1)).isEqualTo(1);
        assertThat(b.blocksUsed(0)).isEqualTo(2);
        assertThat(b.blocksUsed(1)).isEqualTo(1);
        // the spare block 9 of segment 1 is not touched
        assertThat(b.maxBlock()).isEqualTo(7);
        assertThat(b).isEqualTo(valid()).hasSameHashCodeAs(valid());
    }

    @Test
    void isImmutable() {
        int[] queryStart = {0, 1};
        int[][] tables = {{3}};
        PagedBatch b = new PagedBatch(2, queryStart, new int[] {2}, tables, new int[] {7});
        queryStart[1] = 5;
        tables[0][0] = 9;
        b.blockTables()[0][0] = 8;
        b.slots()[0] = 1;
        assertThat(b.queryStart()).containsExactly(0, 1);
        assertThat(b.block(0, 0)).isEqualTo(3);
        assertThat(b.slot(0)).isEqualTo(7);
    }

    @Test
    void emptySegmentsAndEmptyBatchesAreAllowed() {
        PagedBatch b = new PagedBatch(4, new int[] {0, 0, 1}, new int[] {5, 1}, new int[][] {{1, 2}, {3}},
                new int[] {12});
        assertThat(b.segmentLength(0)).isZero();
        assertThat(new PagedBatch(4, new int[] {0}, new int[0], new int[0][], new int[0]).tokens()).isZero();
    }

    private static void rejects(String message, int blockSize, int[] queryStart, int[] contextLens, int[][] tables,
                                int[] slots) {
        assertThatThrownBy(() -> new PagedBatch(blockSize, queryStart, contextLens, tables, slots))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("PagedBatch: ")
                .hasMessageContaining(message);
    }

    @Test
    void rejectsBadBatchesWithClearMessages() {
        int[][] t = {{7, 2}, {5}};
        int[] slots = {31, 8, 9, 20};
        rejects("block size must be positive, got 0", 0, new int[] {0, 3, 4}, new int[] {6, 1}, t, slots);
        rejects("required", 4, null, new int[] {6, 1}, t, slots);
        rejects("block table of segment 1 is null", 4, new int[] {0, 3, 4}, new int[] {6, 1}, new int[][] {{7, 2}, null},
                slots);
        rejects("queryStart has length 2 but 2 segments need 3", 4, new int[] {0, 3}, new int[] {6, 1}, t, slots);
        rejects("1 block tables for 2 segments", 4, new int[] {0, 3, 4}, new int[] {6, 1}, new int[][] {{7, 2}}, slots);
        rejects("queryStart[0] must be 0, got 1", 4, new int[] {1, 3, 4}, new int[] {6, 1}, t, slots);
        rejects("3 slots for 4 query rows", 4, new int[] {0, 3, 4}, new int[] {6, 1}, t, new int[] {31, 8, 9});
        rejects("queryStart decreases at segment 0: 0 then -1", 4, new int[] {0, -1, 0}, new int[] {6, 1}, t,
                new int[0]);
        rejects("segment 1 has 2 new tokens but a context of only 1", 4, new int[] {0, 2, 4}, new int[] {6, 1}, t,
                new int[] {8, 9, 20, 21});
        rejects("segment 0 has a context of 9 tokens, which needs 3 blocks of 4, but its block table has 2", 4,
                new int[] {0, 3, 4}, new int[] {9, 1}, t, slots);
        rejects("segment 1 block table entry 0 is negative: -5", 4, new int[] {0, 3, 4}, new int[] {6, 1},
                new int[][] {{7, 2}, {-5}}, slots);
        rejects("slot of row 1 (segment 0, position 4) is 9 but its block table puts that position at 8", 4,
                new int[] {0, 3, 4}, new int[] {6, 1}, t, new int[] {31, 9, 10, 20});
        // two segments sharing a block (as a prefix hit would) must not both write the same slot
        rejects("slot 20 is written by two rows", 4, new int[] {0, 1, 2}, new int[] {1, 1},
                new int[][] {{5}, {5}}, new int[] {20, 20});
    }
}
