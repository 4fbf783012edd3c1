package io.sparkmm.connector.generate;

import org.apache.spark.Partitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * {@code balance=tokens}: rows priced before any decoding and shuffled into partitions of
 * near-equal cost, so no task of the generation is a straggler holding the job.
 *
 * <p>Why the generator and not the {@code multimodal} source: a row's cost needs its prompt (the
 * source has none: prompts are columns or templates of the generator, and a join may give one
 * image several), maxTokens and the model's tokenizer and processor; and the image sizes come from
 * the source's own {@code probe=true} columns, read in parallel by its tasks rather than by the
 * driver header by header at planning time. It also works on any DataFrame with size columns.
 *
 * <p>The plan, lazy like the rest of {@code transform}:
 * <ol>
 *   <li>{@link RowCosts} prices each row in its input partition and marks the rows that cannot fit
 *       the context (they cost 1 from then on: they never reach the engine);</li>
 *   <li>each input partition is sorted by cost, largest first, ties by a hash of the whole row
 *       (Spark's external sort, so it spills rather than holding a partition's images in memory),
 *       and placed by {@link CostBins}: LPT within the partition, the starting bin rotated per
 *       partition. The total order makes the placement a function of the partition's rows, not of
 *       the order they arrived in, so a retried map task sends each row where the first attempt did
 *       (what Spark's own round-robin repartition sorts for);</li>
 *   <li>a shuffle by bin, with a partitioner that maps bin i to partition i (a hash partitioner
 *       could put two bins in one partition).</li>
 * </ol>
 * The generation then runs on the balanced partitions; the two added columns are dropped from its
 * output.
 */
final class TokenBalance implements Serializable {

    static final String NONE = "none";
    static final String TOKENS = "tokens";
    /** Added by {@link RowCosts}, last in the row; never in the generator's output. */
    static final String COST_COL = "__sparkmm_cost";
    static final String ERROR_COL = "__sparkmm_error";
    static final int ADDED_COLUMNS = 2;

    private final String mode;
    private final int partitions;
    private final String widthCol;
    private final String heightCol;
    private final String durationCol;

    TokenBalance(String mode, int partitions, String widthCol, String heightCol, String durationCol) {
        this.mode = mode == null ? NONE : GeneratorOptions.BALANCE.parse(mode);   // a loaded pipeline's value, too
        if (partitions < 0) {
            throw new IllegalArgumentException("sparkmm: option 'balancePartitions' must be >= 0 (0 = the default "
                    + "parallelism), got " + partitions);
        }
        this.partitions = partitions;
        this.widthCol = widthCol;
        this.heightCol = heightCol;
        this.durationCol = durationCol;
    }

    static String parseMode(String v) {
        String m = v.toLowerCase(Locale.ROOT);
        if (!m.equals(NONE) && !m.equals(TOKENS)) {
            throw new IllegalArgumentException("expected none or tokens");
        }
        return m;
    }

    boolean on() {
        return mode.equals(TOKENS);
    }

    /**
     * Checks the input for {@code balance=tokens} on the driver: images and audio have a size-based
     * price (video does not yet: its frame count depends on decoding); an image column needs its size
     * columns (int, or array<int> for an array of images), an audio column its duration column
     * (double, or array<double>).
     */
    void check(GeneratorSettings s, StructType schema) {
        if (!on()) {
            return;
        }
        if (s.videoCol() != null) {
            throw new IllegalArgumentException("sparkmm: balance=tokens prices images and audio, not video; unset "
                    + "videoCol or use balance=none");
        }
        if (s.imageCol() != null) {
            sizeColumn(schema, widthCol, "widthCol", DataTypes.IntegerType, "the image sizes");
            sizeColumn(schema, heightCol, "heightCol", DataTypes.IntegerType, "the image sizes");
        }
        if (s.audioCol() != null) {
            sizeColumn(schema, durationCol, "durationCol", DataTypes.DoubleType, "the audio durations");
        }
        for (String c : List.of(COST_COL, ERROR_COL)) {
            if (Arrays.asList(schema.fieldNames()).contains(c)) {
                throw new IllegalArgumentException("sparkmm: balance=tokens adds a column '" + c
                        + "', which the input already has");
            }
        }
    }

    private static void sizeColumn(StructType schema, String name, String option, DataType type, String what) {
        if (name == null || !Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException("sparkmm: balance=tokens needs " + what + ": column '" + name
                    + "' named by " + option + " is not in the input (read the images with the multimodal source's "
                    + "probe=true, or name your columns); columns are " + Arrays.toString(schema.fieldNames()));
        }
        DataType t = schema.fields()[schema.fieldIndex(name)].dataType();
        if (!t.equals(type) && !(t instanceof ArrayType a && a.elementType().equals(type))) {
            throw new IllegalArgumentException("sparkmm: column '" + name + "' named by " + option + " has type "
                    + t.simpleString() + "; expected " + type.simpleString() + " or array<" + type.simpleString() + ">");
        }
    }

    /** The input priced, placed and shuffled into balanced partitions, with the two added columns last. */
    Dataset<Row> apply(Dataset<Row> df, GeneratorSettings s) {
        StructType in = df.schema();
        int width = s.imageCol() == null ? -1 : in.fieldIndex(widthCol);
        int height = s.imageCol() == null ? -1 : in.fieldIndex(heightCol);
        int duration = s.audioCol() == null ? -1 : in.fieldIndex(durationCol);
        StructType priced = in.add(COST_COL, DataTypes.LongType, false).add(ERROR_COL, DataTypes.StringType, true);
        Dataset<Row> costed = df.mapPartitions(new RowCosts(s, in, width, height, duration), Encoders.row(priced));
        // Spark hashes no map (nor variant) values: such columns stay out of the tie-break, which then only
        // fails to order rows equal in cost and in every other column's hash
        Column[] all = Arrays.stream(in.fields()).filter(f -> hashable(f.dataType()))
                .map(f -> col("`" + f.name().replace("`", "``") + "`")).toArray(Column[]::new);
        Dataset<Row> sorted = all.length == 0 ? costed.sortWithinPartitions(col(COST_COL).desc())
                : costed.sortWithinPartitions(col(COST_COL).desc(), xxhash64(all));
        int n = partitions > 0 ? partitions : df.sparkSession().sparkContext().defaultParallelism();
        JavaRDD<Row> balanced = sorted.javaRDD().mapPartitionsToPair(new Place(n, in.length()))
                .partitionBy(new BinPartitioner(n)).values();
        return df.sparkSession().createDataFrame(balanced, priced);
    }

    private static boolean hashable(DataType t) {
        if (t instanceof MapType || t.typeName().equals("variant")) {
            return false;
        } else if (t instanceof ArrayType a) {
            return hashable(a.elementType());
        } else if (t instanceof StructType st) {
            return Arrays.stream(st.fields()).allMatch(f -> hashable(f.dataType()));
        }
        return true;
    }

    /** Places a sorted input partition's rows into bins (see the class comment). */
    private record Place(int bins, int costIndex) implements PairFlatMapFunction<Iterator<Row>, Integer, Row> {
        @Override
        public Iterator<Tuple2<Integer, Row>> call(Iterator<Row> rows) {
            TaskContext task = TaskContext.get();
            CostBins placed = new CostBins(bins, task == null ? 0 : task.partitionId());
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Tuple2<Integer, Row> next() {
                    Row r = rows.next();
                    return new Tuple2<>(placed.place(r.getLong(costIndex)), r);
                }
            };
        }
    }

    /** Bin i is partition i. */
    static final class BinPartitioner extends Partitioner {
        private final int n;

        BinPartitioner(int n) {
            this.n = n;
        }

        @Override
        public int numPartitions() {
            return n;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BinPartitioner b && b.n == n;
        }

        @Override
        public int hashCode() {
            return n;
        }
    }

    /** The error {@link RowCosts} gave a priced row, or null. */
    static String error(Row row) {
        int i = row.length() - 1;
        return row.isNullAt(i) ? null : row.getString(i);
    }
}
