package io.sparkmm.connector.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import io.sparkmm.connector.source.MultimodalPartition.FileEntry;
import org.junit.jupiter.api.Test;

/** Bin-packing of files into partitions, as Spark's FilePartition does for unsplittable files. */
class MultimodalScanPackingTest {

    private static List<FileEntry> files(long... sizes) {
        List<FileEntry> out = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            out.add(new FileEntry("file:/f" + i, "file:/f" + i, sizes[i], 0));
        }
        return out;
    }

    private static List<Long> partitionBytes(List<MultimodalPartition> ps) {
        return ps.stream().map(MultimodalPartition::totalBytes).toList();
    }

    @Test
    void targetIsCappedByMaxBytesAndSpreadOverMinPartitions() {
        List<FileEntry> ten = files(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000);
        assertThat(MultimodalScan.maxSplitBytes(ten, 3000, 0, 1)).isEqualTo(3000);
        assertThat(MultimodalScan.maxSplitBytes(ten, 1 << 30, 0, 4)).isEqualTo(2500);
        // never below the open cost, however many partitions are wanted
        assertThat(MultimodalScan.maxSplitBytes(ten, 1 << 30, 700, 1000)).isEqualTo(700);
        assertThat(MultimodalScan.maxSplitBytes(List.of(), 3000, 10, 2)).isEqualTo(10);
    }

    @Test
    void largestFirstNextFit() {
        List<MultimodalPartition> ps = MultimodalScan.pack(files(100, 700, 300, 500, 900), 1000, 0);
        // 900 | 700 (+500 would pass 1000) | 500 300 100
        assertThat(partitionBytes(ps)).containsExactly(900L, 700L, 900L);
        assertThat(ps.get(2).files()).extracting(FileEntry::length).containsExactly(500L, 300L, 100L);
    }

    @Test
    void openCostCountsAgainstThePartition() {
        List<MultimodalPartition> ps = MultimodalScan.pack(files(1000, 1000, 1000, 1000), 3000, 500);
        assertThat(ps).hasSize(2).allSatisfy(p -> assertThat(p.files()).hasSize(2));
    }

    @Test
    void oversizedFileAloneAndNothingLost() {
        List<MultimodalPartition> ps = MultimodalScan.pack(files(5000, 10, 10), 100, 0);
        assertThat(partitionBytes(ps)).containsExactly(5000L, 20L);
        assertThat(MultimodalScan.pack(List.of(), 100, 0)).isEmpty();
        assertThat(MultimodalScan.maxSplitBytes(files(Long.MAX_VALUE, Long.MAX_VALUE), Long.MAX_VALUE, 1, 1))
                .as("no overflow").isEqualTo(Long.MAX_VALUE);
    }
}
