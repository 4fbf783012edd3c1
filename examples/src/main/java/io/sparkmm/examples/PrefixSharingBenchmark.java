package io.sparkmm.examples;

import io.sparkmm.connector.generate.GeneratorMetrics;
import io.sparkmm.connector.generate.MultimodalGenerator;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The demo's workload (ShapeQuestionsJob: every image asked four questions, on the default model)
 * under the engine's in-flight prefix wait and the connector's affinity option, off and on, in one
 * process: prompt tokens computed, prefix-cache hit rate, rows/s and accuracy per setting, and the
 * ratios to the setting with both off. Each run draws fresh images (its own seed), so no run hits
 * another's prefix, encoder or processor cache entries; settings take turns within a round, after
 * a warm-up of each, so JIT and machine noise spread over all of them.
 *
 * <pre>
 * bin/spark-example --class io.sparkmm.examples.PrefixSharingBenchmark [--images 250] [--rounds 2]
 *     [--model classpath:default-model|DIR] [--dir target/prefix-bench] [--master local[2]]
 * </pre>
 */
public final class PrefixSharingBenchmark {

    /** Totals of one setting over its rounds. */
    private static final class Totals {
        long rows;
        long promptTokens;
        long cachedTokens;
        double seconds;
        double minAccuracy = 1;

        long computed() {
            return promptTokens - cachedTokens;
        }

        double hitRate() {
            return promptTokens == 0 ? 0 : (double) cachedTokens / promptTokens;
        }

        double rowsPerSecond() {
            return rows / seconds;
        }
    }

    /** One run of the job: the generator's counters and the scored answers. */
    private record Run(GeneratorMetrics metrics, ShapeQuestionsJob.Report report) {
    }

    private PrefixSharingBenchmark() {
    }

    static final String USAGE = "[--images N] [--rounds R] [--model LOCATION] [--dir DIR] [--master URL]";

    public static void main(String[] argv) throws IOException {
        JobArgs args = JobArgs.parse(argv, USAGE);
        int images = Integer.parseInt(args.get("--images", "250"));
        int rounds = Integer.parseInt(args.get("--rounds", "2"));
        String model = args.get("--model", DefaultModel.LOCATION);
        Path base = Path.of(args.get("--dir", "target/prefix-bench"));
        Map<String, UnaryOperator<MultimodalGenerator>> settings = new LinkedHashMap<>();
        settings.put("wait off, affinity none", g -> g.setPrefixWait(false));
        settings.put("wait off, affinity media", g -> g.setPrefixWait(false).setAffinity("media"));
        settings.put("wait on,  affinity none", g -> g.setPrefixWait(true));
        settings.put("wait on,  affinity media", g -> g.setPrefixWait(true).setAffinity("media"));
        List<String> names = List.copyOf(settings.keySet());

        SparkSession spark = args.session("sparkmm prefix sharing benchmark");
        spark.sparkContext().setLogLevel("WARN");
        Map<String, Totals> totals = new LinkedHashMap<>();
        try {
            // warm-up: loads each setting's engine and JITs the whole path on images not used later
            for (int s = 0; s < names.size(); s++) {
                run(spark, base, names.get(s), settings.get(names.get(s)), model, 24, 7_000 + s);
            }
            for (int r = 0; r < rounds; r++) {
                for (int s = 0; s < names.size(); s++) {
                    String name = names.get(s);
                    Totals t = totals.computeIfAbsent(name, k -> new Totals());
                    Run run = run(spark, base, name, settings.get(name), model, images, 1_000L * r + s);
                    GeneratorMetrics m = run.metrics();
                    ShapeQuestionsJob.Report report = run.report();
                    t.rows += m.rows();
                    t.promptTokens += m.promptTokens();
                    t.cachedTokens += m.cachedTokens();
                    t.seconds += report.seconds();
                    t.minAccuracy = Math.min(t.minAccuracy, report.minAccuracy());
                    System.out.printf(Locale.ROOT, "round %d | %s | %d rows | %d prompt tokens, %d computed, hit rate "
                                    + "%.1f%% | %.1f rows/s | lowest accuracy %.2f%%%n", r, name, m.rows(),
                            m.promptTokens(), m.promptTokens() - m.cachedTokens(),
                            100.0 * m.cachedTokens() / Math.max(1, m.promptTokens()), m.rows() / report.seconds(),
                            100 * report.minAccuracy());
                }
            }
        } finally {
            spark.stop();
        }
        Totals before = totals.get(names.get(0));
        System.out.printf(Locale.ROOT, "%n%d images x 4 questions x %d rounds per setting (%s)%n", images, rounds,
                args.get("--master", "spark-submit's master"));
        System.out.println("| setting | prompt tokens | computed | vs off | prefix hit rate | rows/s | vs off | lowest accuracy |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        totals.forEach((name, t) -> System.out.printf(Locale.ROOT,
                "| %s | %,d | %,d | %.2fx | %.1f%% | %.1f | %.2fx | %.2f%% |%n", name.replaceAll(" +", " "),
                t.promptTokens, t.computed(), (double) t.computed() / before.computed(), 100 * t.hitRate(),
                t.rowsPerSecond(), t.rowsPerSecond() / before.rowsPerSecond(), 100 * t.minAccuracy));
    }

    /** One run of the demo job on fresh images. */
    private static Run run(SparkSession spark, Path base, String setting, UnaryOperator<MultimodalGenerator> configure,
                                String model, int images, long seed) throws IOException {
        Path dir = base.resolve("images-" + seed);
        ShapeQuestionsJob.writeImages(dir, images, 20_261_202L + seed, false);
        MultimodalGenerator g = configure.apply(ShapeQuestionsJob.generator(model));
        System.out.println("== " + setting + ", " + images + " images (seed " + seed + ")");
        ShapeQuestionsJob.Report report = ShapeQuestionsJob.run(spark, dir.toString(),
                base.resolve("answers-" + seed + ".parquet").toString(), g, 0);
        return new Run(g.lastMetrics(), report);
    }
}
