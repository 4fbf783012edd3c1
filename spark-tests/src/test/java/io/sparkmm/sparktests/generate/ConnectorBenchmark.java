package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.media.MediaSource;
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
 * Connector overhead: the same rows through the DataFrame path (local[2], 2 partitions) and
 * through the engine alone (requests built in one thread and submitted as they are built), in one
 * run, alternating, each round on fresh content so no path gets cache hits from an earlier round.
 * A plain main (not a test): {@code java <opens> -cp <spark-tests test classpath>
 * io.sparkmm.sparktests.generate.ConnectorBenchmark [rows] [maxTokens] [rounds] [lookAhead]}.
 */
public final class ConnectorBenchmark {

    private ConnectorBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int maxTokens = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        // rows in flight per task; 2 tasks x 128 = the engine's 256 sequences, as many as the engine alone gets
        int lookAhead = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        Path model = SparkTestSupport.checkpoint("benchmark");
        EngineConfig config = EngineConfig.defaults().withKvCacheBytes(64L << 20);
        SparkSession spark = SparkTestSupport.session("local[2]", "ConnectorBenchmark").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        StructType schema = new StructType().add("prompt", DataTypes.StringType).add("image", DataTypes.BinaryType);
        try {
            // warm-up: loads the executor's engine and JITs both paths on content not used later
            runFrame(spark, schema, model, config, SparkTestSupport.benchmarkRows(16, -1), maxTokens, lookAhead);
            runAlone(model, config, SparkTestSupport.benchmarkRows(16, -2), maxTokens);
            double aloneSeconds = 0;
            double frameSeconds = 0;
            List<Double> overheads = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                List<Row> data = SparkTestSupport.benchmarkRows(n, r);
                double[] alone = runAlone(model, config, data, maxTokens);
                double[] frame = runFrame(spark, schema, model, config, data, maxTokens, lookAhead);
                System.out.printf(Locale.ROOT, "round %d: %d rows x %d max tokens | engine alone %.2f rows/s %.1f tok/s"
                                + " | DataFrame %.2f rows/s %.1f tok/s | overhead %.1f%%%n", r, n, maxTokens,
                        n / alone[0], alone[1] / alone[0], n / frame[0], frame[1] / frame[0],
                        100 * (frame[0] / alone[0] - 1));
                aloneSeconds += alone[0];
                frameSeconds += frame[0];
                overheads.add(100 * (frame[0] / alone[0] - 1));
            }
            overheads.sort(null);
            // the machine is shared: the median round and the totals say more than any one round
            System.out.printf(Locale.ROOT, "lookAhead %d: total engine alone %.2f rows/s, DataFrame %.2f rows/s, "
                            + "overhead of totals %.1f%%, median round %.1f%%%n", lookAhead,
                    rounds * n / aloneSeconds, rounds * n / frameSeconds, 100 * (frameSeconds / aloneSeconds - 1),
                    overheads.get(overheads.size() / 2));
        } finally {
            spark.stop();
        }
    }

    /** {seconds, generated tokens}. */
    private static double[] runFrame(SparkSession spark, StructType schema, Path model, EngineConfig config,
                                     List<Row> data, int maxTokens, int lookAhead) {
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(data, 2), schema)
                .cache();
        df.count();
        MultimodalGenerator g = new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt")
                .setImageCol("image").setMaxTokens(maxTokens).setTemperature(0).setLookAhead(lookAhead)
                .setKvCacheBytes(config.kvCacheBytes()).setMaxBatchedTokens(config.maxNumBatchedTokens())
                .setMaxSeqs(config.maxNumSeqs());
        long t0 = System.nanoTime();
        g.transform(df).write().format("noop").mode("overwrite").save();
        double s = (System.nanoTime() - t0) / 1e9;
        df.unpersist();
        if (g.lastMetrics().errors() > 0) {
            throw new IllegalStateException("benchmark rows failed: " + g.lastMetrics());
        }
        return new double[] {s, g.lastMetrics().generatedTokens()};
    }

    private static double[] runAlone(Path model, EngineConfig config, List<Row> data, int maxTokens) {
        try (EngineSession session = EngineSession.open(model.toString(),
                EngineOptions.defaults().withEngine(config).withProcessorCacheBytes(512L << 20))) {
            Engine engine = session.engine();
            MultimodalProcessor processor = session.requests();
            long t0 = System.nanoTime();
            List<RequestHandle> handles = new ArrayList<>();
            for (Row r : data) {
                List<MediaSource> images = r.isNullAt(1) ? List.of() : List.of(MediaSource.ofBytes("img", (byte[]) r.get(1)));
                PromptInput p = new PromptInput(r.getString(0), null, true, null, images, List.of(), List.of());
                handles.add(engine.submit(processor.build(null, p, SamplingParams.greedy(maxTokens))));
            }
            long tokens = 0;
            for (RequestHandle h : handles) {
                EngineResult res = h.result().join();
                if (!res.ok()) {
                    throw new IllegalStateException("benchmark request failed: " + res.error());
                }
                tokens += res.completionTokens();
            }
            return new double[] {(System.nanoTime() - t0) / 1e9, tokens};
        }
    }
}
