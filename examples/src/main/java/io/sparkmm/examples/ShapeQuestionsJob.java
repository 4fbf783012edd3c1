package io.sparkmm.examples;

import io.sparkmm.connector.generate.MultimodalGenerator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF4;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

/**
 * The default model's task end to end on Spark: draws a directory of fresh images (Java2D, a seed
 * of their own, the answers in the file names), reads it with the {@code multimodal} source, asks
 * every image the four questions through {@link MultimodalGenerator}, writes Parquet, and scores
 * the answers per question with Spark SQL.
 *
 * <pre>
 * bin/spark-example --class io.sparkmm.examples.ShapeQuestionsJob [--images 1000] [--seed S] [--dir DIR]
 *     [--output DIR] [--model classpath:default-model|DIR] [--corrupt true] [--master local[2]]
 * </pre>
 *
 * The exit code is 1 when any question type is answered exactly for fewer than 98% of the images.
 * {@code --corrupt true} adds a file that is not an image: its four rows come back with the error
 * set, the other rows are unaffected, and it is left out of the accuracy.
 */
public final class ShapeQuestionsJob {

    static final double MIN_ACCURACY = 0.98;
    /** File names carry the answers: shape-00042-red-circle-white.png (color, shape, background). */
    static final String NAME_PATTERN = "shape-\\d+-([a-z]+)-([a-z]+)-([a-z]+)\\.png$";
    static final String CORRUPT_NAME = "not-an-image.png";

    /**
     * Correct answers and labelled images per question, the rows that came back with an error, and
     * the seconds the generation took (writing included, scoring not).
     */
    public record Report(Map<String, long[]> perPrompt, long rows, long errors, double seconds) {

        public double accuracy(String prompt) {
            long[] c = perPrompt.get(prompt);
            return c == null || c[1] == 0 ? 0 : (double) c[0] / c[1];
        }

        /** The lowest accuracy over the question types. */
        public double minAccuracy() {
            return perPrompt.keySet().stream().mapToDouble(this::accuracy).min().orElse(0);
        }

        public boolean meetsBar() {
            return perPrompt.size() == ShapeImages.PROMPTS.size()
                    && perPrompt.keySet().stream().allMatch(p -> accuracy(p) >= MIN_ACCURACY);
        }
    }

    private ShapeQuestionsJob() {
    }

    static final String USAGE = "[--images N] [--seed S] [--dir DIR] [--output DIR] [--model LOCATION] "
            + "[--corrupt true] [--master URL]";

    public static void main(String[] argv) throws IOException {
        JobArgs args = JobArgs.parse(argv, USAGE);
        int images = Integer.parseInt(args.get("--images", "1000"));
        long seed = Long.parseLong(args.get("--seed", "20261201"));
        Path dir = Path.of(args.get("--dir", "target/shape-images"));
        String output = args.get("--output", "target/shape-answers.parquet");
        String model = args.get("--model", DefaultModel.LOCATION);

        long t0 = System.nanoTime();
        writeImages(dir, images, seed, Boolean.parseBoolean(args.get("--corrupt", "false")));
        System.out.printf(Locale.ROOT, "wrote %d images (seed %d) to %s in %.1f s%n", images, seed, dir,
                (System.nanoTime() - t0) / 1e9);
        SparkSession spark = args.session("sparkmm shape questions");
        Report report;
        try {
            report = run(spark, dir.toString(), output, model, 8);
        } finally {
            spark.stop();
        }
        System.out.println(report.meetsBar() ? "every question type at or above 98%"
                : "below the 98% bar on at least one question type");
        System.exit(report.meetsBar() ? 0 : 1);
    }

    /**
     * Fresh images under the task's rules, named with their answers; the folder is emptied of
     * earlier PNGs first so a smaller run is not scored on a bigger one's leftovers.
     */
    public static void writeImages(Path dir, int images, long seed, boolean corrupt) throws IOException {
        Files.createDirectories(dir);
        try (var old = Files.list(dir)) {
            for (Path p : (Iterable<Path>) old::iterator) {
                if (p.getFileName().toString().endsWith(".png")) {
                    Files.delete(p);
                }
            }
        }
        Random rnd = new Random(seed);
        for (int i = 0; i < images; i++) {
            ShapeImages.Example e = ShapeImages.random(rnd);
            e.writePng(dir.resolve(String.format(Locale.ROOT, "shape-%05d-%s-%s-%s.png", i, e.color(), e.shape(),
                    e.background())));
        }
        if (corrupt) {
            // a PNG signature and then nothing a decoder can use
            Files.write(dir.resolve(CORRUPT_NAME), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0});
        }
    }

    /** Asks every image under {@code dir} the four questions, writes the answers to {@code output}, scores them. */
    public static Report run(SparkSession spark, String dir, String output, String model, int showRows) {
        return run(spark, dir, output, generator(model), showRows);
    }

    /**
     * The job's generator: greedy, 12 tokens, 256 rows in flight per task. Affinity stays none: the
     * cross join already puts an image's four rows next to each other in one task, and the engine's
     * in-flight prefix wait (on by default) lets three of them reuse the first one's image blocks;
     * a media-affinity shuffle would move every image's bytes for no more sharing (measured by
     * {@link PrefixSharingBenchmark}).
     */
    public static MultimodalGenerator generator(String model) {
        return new MultimodalGenerator().setModelPath(model).setPromptCol("prompt").setImageCol("content")
                .setKeyCol("path").setMaxTokens(12).setTemperature(0).setLookAhead(256);
    }

    /** {@link #run(SparkSession, String, String, String, int)} with a generator set up by the caller. */
    public static Report run(SparkSession spark, String dir, String output, MultimodalGenerator generator,
                             int showRows) {
        Dataset<Row> images = spark.read().format("multimodal").option("modality", "image").load(dir)
                .select(col("path"), col("content"));
        // Each image row meets the four prompts next to each other, so within a task the image is
        // decoded and encoded once and the other three questions hit the processor and encoder caches.
        Dataset<Row> questions = images.crossJoin(broadcast(
                spark.createDataset(ShapeImages.PROMPTS, Encoders.STRING()).toDF("prompt")));
        long t0 = System.nanoTime();
        generator.transform(questions)
                .select(col("path"), col("prompt"), col("generation.text").as("answer"),
                        col("generation.finish_reason").as("finish_reason"), col("generation.error").as("error"))
                .write().mode(SaveMode.Overwrite).parquet(output);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.println("sparkmm: " + generator.lastMetrics().summary(seconds) + ", model " + generator.getModelPath());

        Dataset<Row> scored = score(spark.read().parquet(output)).cache();
        try {
            if (showRows > 0) {
                System.out.println("sample rows:");
                scored.filter(col("error").isNull()).orderBy(col("file"), col("prompt"))
                        .select(col("file"), col("prompt"), col("answer"), col("expected"), col("correct"))
                        .show(showRows, false);
            }
            Dataset<Row> failed = scored.filter(col("error").isNotNull());
            long errors = failed.count();
            if (errors > 0 && showRows > 0) {
                System.out.println("rows with an error (" + errors + "):");
                failed.orderBy(col("file"), col("prompt")).select(col("file"), col("prompt"), col("error"))
                        .show(showRows, false);
            }
            Map<String, long[]> perPrompt = new LinkedHashMap<>();
            for (String p : ShapeImages.PROMPTS) {
                perPrompt.put(p, new long[2]);
            }
            for (Row r : scored.filter(col("expected").isNotNull()).groupBy(col("prompt"))
                    .agg(sum(when(col("correct"), 1).otherwise(0)).as("right"), sum(lit(1)).as("images"))
                    .collectAsList()) {
                perPrompt.put(r.getString(0), new long[] {r.getLong(1), r.getLong(2)});
            }
            Report report = new Report(perPrompt, scored.count(), errors, seconds);
            print(report);
            return report;
        } finally {
            scored.unpersist();
        }
    }

    /** Adds file, expected (from the file name; null when the name carries no answer) and correct. */
    static Dataset<Row> score(Dataset<Row> answers) {
        // the answer text comes from ShapeImages, the one place that words it
        UserDefinedFunction expectedAnswer = udf((UDF4<String, String, String, String, String>) (prompt, color, shape,
                background) -> shape.isEmpty() ? null : ShapeImages.answer(ShapeImages.PROMPTS.indexOf(prompt), color,
                shape, background), DataTypes.StringType);
        return answers.withColumn("file", regexp_extract(col("path"), "[^/]+$", 0))
                .withColumn("expected", expectedAnswer.apply(col("prompt"), regexp_extract(col("path"), NAME_PATTERN, 1),
                        regexp_extract(col("path"), NAME_PATTERN, 2), regexp_extract(col("path"), NAME_PATTERN, 3)))
                // exact: the whole answer, ended by the model's EOS (not cut off by maxTokens)
                .withColumn("correct", trim(col("answer")).eqNullSafe(col("expected"))
                        .and(col("finish_reason").eqNullSafe(lit("stop"))));
    }

    static void print(Report report) {
        System.out.printf("| %-32s | %11s | %8s |%n", "question", "correct", "accuracy");
        System.out.printf("|%s|%s|%s|%n", "-".repeat(34), "-".repeat(13), "-".repeat(10));
        report.perPrompt().forEach((p, c) -> System.out.printf(Locale.ROOT, "| %-32s | %5d/%5d | %7.2f%% |%n", p, c[0],
                c[1], 100.0 * report.accuracy(p)));
        System.out.printf("%d rows, %d with an error%n", report.rows(), report.errors());
    }
}
