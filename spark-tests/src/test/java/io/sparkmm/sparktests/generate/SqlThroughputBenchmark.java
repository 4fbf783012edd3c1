package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * SQL's {@code mm_generate} (planned into the batched operator) against the DataFrame path on the
 * same rows, in one run (local[2], 2 partitions), alternating which goes first, each round on
 * fresh content so neither gets the other's cache hits; then, for scale, one row-at-a-time SQL pass
 * (options built per row keep a call out of the batched operator). A plain main (not a test):
 * {@code java <opens> -cp <spark-tests test classpath> io.sparkmm.sparktests.generate.SqlThroughputBenchmark
 * [rows] [maxTokens] [rounds]}.
 */
public final class SqlThroughputBenchmark {

    private SqlThroughputBenchmark() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 96;
        int maxTokens = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        Path model = SparkTestSupport.checkpoint("benchmark");
        SparkSession spark = SparkTestSupport.session("local[2]", "SqlThroughputBenchmark")
                .config("spark.sql.extensions", "io.sparkmm.connector.sql.SparkmmExtensions")
                .config("spark.sparkmm.model", model.toString())
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        StructType schema = new StructType().add("prompt", DataTypes.StringType).add("image", DataTypes.BinaryType);
        try {
            // warm-up: loads the engine and JITs both paths on content not used later
            frame(spark, schema, SparkTestSupport.benchmarkRows(16, -1), model, maxTokens);
            sql(spark, schema, SparkTestSupport.benchmarkRows(16, -2), maxTokens);
            double frameSeconds = 0;
            double sqlSeconds = 0;
            List<Double> ratios = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                List<Row> a = SparkTestSupport.benchmarkRows(n, 2 * r);
                List<Row> b = SparkTestSupport.benchmarkRows(n, 2 * r + 1);
                double f;
                double s;
                if (r % 2 == 0) {
                    f = frame(spark, schema, a, model, maxTokens);
                    s = sql(spark, schema, b, maxTokens);
                } else {
                    s = sql(spark, schema, a, maxTokens);
                    f = frame(spark, schema, b, model, maxTokens);
                }
                frameSeconds += f;
                sqlSeconds += s;
                ratios.add(f / s);
                System.out.printf(Locale.ROOT, "round %d: %d rows x %d max tokens | DataFrame %.2f rows/s | SQL %.2f rows/s"
                        + " | SQL/DataFrame %.3f%n", r, n, maxTokens, n / f, n / s, f / s);
            }
            double rowAtATime = sqlRowAtATime(spark, schema, SparkTestSupport.benchmarkRows(n, 2 * rounds), maxTokens);
            System.out.printf(Locale.ROOT, "row-at-a-time SQL (the unbatched evaluation): %.2f rows/s%n", n / rowAtATime);
            ratios.sort(null);
            System.out.printf(Locale.ROOT, "total: DataFrame %.2f rows/s, SQL %.2f rows/s, SQL/DataFrame %.3f (median round %.3f)%n",
                    rounds * n / frameSeconds, rounds * n / sqlSeconds, frameSeconds / sqlSeconds,
                    ratios.get(ratios.size() / 2));
        } finally {
            spark.stop();
        }
    }

    private static Dataset<Row> cached(SparkSession spark, StructType schema, List<Row> data) {
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(data, 2), schema)
                .cache();
        df.count();
        return df;
    }

    private static double frame(SparkSession spark, StructType schema, List<Row> data, Path model, int maxTokens) {
        Dataset<Row> df = cached(spark, schema, data);
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt")
                .setImageCol("image").setMaxTokens(maxTokens).setTemperature(0);
        long t0 = System.nanoTime();
        g.transform(df).write().format("noop").mode("overwrite").save();
        double s = (System.nanoTime() - t0) / 1e9;
        df.unpersist();
        if (g.lastMetrics().errors() > 0 || g.lastMetrics().rows() != data.size()) {
            throw new IllegalStateException("DataFrame rows failed or went missing: " + g.lastMetrics());
        }
        return s;
    }

    private static double sql(SparkSession spark, StructType schema, List<Row> data, int maxTokens) {
        return sql(spark, schema, data, "'" + maxTokens + "'");
    }

    private static double sqlRowAtATime(SparkSession spark, StructType schema, List<Row> data, int maxTokens) {
        return sql(spark, schema, data, "CAST(" + maxTokens + " + 0 * length(prompt) AS STRING)");
    }

    private static double sql(SparkSession spark, StructType schema, List<Row> data, String maxTokens) {
        Dataset<Row> df = cached(spark, schema, data);
        df.createOrReplaceTempView("bench_rows");
        Dataset<Row> out = spark.sql("SELECT prompt, mm_generate(prompt, image, map('maxTokens', " + maxTokens
                + ", 'temperature', '0')) AS generation FROM bench_rows");
        long t0 = System.nanoTime();
        out.write().format("noop").mode("overwrite").save();
        double s = (System.nanoTime() - t0) / 1e9;
        long errors = out.filter("generation.error IS NOT NULL").count();
        df.unpersist();
        if (errors > 0) {
            throw new IllegalStateException(errors + " SQL rows failed");
        }
        return s;
    }
}
