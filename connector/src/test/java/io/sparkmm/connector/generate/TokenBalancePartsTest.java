package io.sparkmm.connector.generate;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Spark-free parts of balance=tokens: the bin placement and the driver-side checks of the options. */
class TokenBalancePartsTest {

    private static final StructType PROBED = new StructType().add("path", DataTypes.StringType)
            .add("prompt", DataTypes.StringType).add("width", DataTypes.IntegerType).add("height", DataTypes.IntegerType);

    /**
     * 8 rows of 283 and 64 of 27 (the skew of a large image among small ones) into 4 bins, largest
     * first: by hand, every bin gets two large rows and sixteen small ones, 2 * 283 + 16 * 27 = 998.
     */
    @Test
    void largestFirstEvensSkewedCosts() {
        List<Long> costs = new ArrayList<>(Collections.nCopies(8, 283L));
        costs.addAll(Collections.nCopies(64, 27L));
        CostBins bins = new CostBins(4, 0);
        costs.forEach(bins::place);
        for (int b = 0; b < 4; b++) {
            assertThat(bins.load(b)).as("bin %d", b).isEqualTo(998);
        }
    }

    /** Any order: the fullest bin ends at most one row's cost above the emptiest (list scheduling). */
    @Test
    void anyOrderStaysWithinOneRow() {
        java.util.Random r = new java.util.Random(7);
        CostBins bins = new CostBins(5, 2);
        long largest = 0;
        for (int i = 0; i < 500; i++) {
            long c = r.nextInt(10) == 0 ? 500 + r.nextInt(500) : 1 + r.nextInt(40);
            largest = Math.max(largest, c);
            bins.place(c);
        }
        long max = 0;
        long min = Long.MAX_VALUE;
        for (int b = 0; b < 5; b++) {
            max = Math.max(max, bins.load(b));
            min = Math.min(min, bins.load(b));
        }
        assertThat(max - min).isLessThanOrEqualTo(largest);
    }

    /** Ties start at the partition's own bin, so tasks' largest rows land in different bins. */
    @Test
    void tiesRotateByPartition() {
        CostBins bins = new CostBins(4, 3);
        assertThat(List.of(bins.place(5), bins.place(5), bins.place(5), bins.place(5))).containsExactly(3, 0, 1, 2);
        assertThat(new CostBins(4, 6).place(1)).isEqualTo(2);
        assertThatThrownBy(() -> new CostBins(0, 0)).hasMessageContaining("at least one bin");
    }

    @Test
    void optionsAreCheckedOnTheDriver() {
        MultimodalGenerator g = new MultimodalGenerator().setModelPath("/m").setPromptCol("prompt").setImageCol("path")
                .setBalance("TOKENS");
        assertThat(g.getBalance()).isEqualTo("tokens");
        assertThat(g.transformSchema(PROBED).fieldNames()).containsExactly("path", "prompt", "width", "height", "generation");
        assertThatThrownBy(() -> g.copy().setWidthCol("w").transformSchema(PROBED))
                .hasMessageContaining("'w' named by widthCol").hasMessageContaining("probe=true");
        StructType longSizes = new StructType().add("path", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("width", DataTypes.LongType).add("height", DataTypes.IntegerType);
        assertThatThrownBy(() -> g.transformSchema(longSizes)).hasMessageContaining("'width' named by widthCol has type bigint");
        assertThatThrownBy(() -> g.copy().setVideoCol("path").transformSchema(PROBED))
                .hasMessageContaining("prices images and audio, not video");
        // an audio column needs its durations: double, or array<double>
        assertThatThrownBy(() -> g.copy().setAudioCol("path").transformSchema(PROBED))
                .hasMessageContaining("needs the audio durations: column 'duration_s' named by durationCol");
        StructType intDurations = PROBED.add("duration_s", DataTypes.IntegerType);
        assertThatThrownBy(() -> g.copy().setAudioCol("path").transformSchema(intDurations))
                .hasMessageContaining("'duration_s' named by durationCol has type int; expected double or array<double>");
        g.copy().setAudioCol("path").transformSchema(PROBED.add("duration_s", DataTypes.DoubleType));
        assertThatThrownBy(() -> g.copy().setBalancePartitions(-1).transformSchema(PROBED))
                .hasMessageContaining("'balancePartitions' must be >= 0");
        assertThatThrownBy(() -> g.copy().setBalance("bytes")).hasMessageContaining("option 'balance' has a bad value 'bytes'");
        // without an image column, sizes are not needed: a text row's price is its prompt
        new MultimodalGenerator().setModelPath("/m").setPromptCol("prompt").setBalance("tokens")
                .transformSchema(new StructType().add("prompt", DataTypes.StringType));
    }
}
