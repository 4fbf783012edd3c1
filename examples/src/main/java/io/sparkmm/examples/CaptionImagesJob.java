package io.sparkmm.examples;

import io.sparkmm.connector.generate.GeneratorMetrics;
import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.checkpoint.TinyLlavaCheckpoint;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * Captions every image under a directory and writes Parquet (path, caption struct).
 *
 * <pre>
 * spark-submit --class io.sparkmm.examples.CaptionImagesJob app.jar \
 *     --input DIR --output DIR [--model DIR] [--prompt TEXT] [--max-tokens N] [--master local[2]]
 * </pre>
 *
 * Without --model it writes a tiny random LLaVA checkpoint to a temporary directory (the output is
 * then random text: useful to check the pipeline, not the captions). --master is for local runs;
 * under spark-submit leave it out and pass --master to spark-submit.
 */
public final class CaptionImagesJob {

    private CaptionImagesJob() {
    }

    public static void main(String[] argv) throws IOException {
        Map<String, String> args = parse(argv);
        String input = required(args, "--input");
        String output = required(args, "--output");
        String model = args.get("--model");
        if (model == null) {
            // the executors read the model from this path too: fine in local mode and on one machine
            model = TinyLlavaCheckpoint.write(Files.createTempDirectory("sparkmm-tiny-llava"),
                    TinyLlavaCheckpoint.Spec.llama()).toString();
            System.out.println("no --model: using a tiny random LLaVA checkpoint in " + model);
        }
        SparkSession.Builder builder = SparkSession.builder().appName("sparkmm caption images");
        if (args.containsKey("--master")) {
            builder.master(args.get("--master")).config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.enabled", "false");
        }
        SparkSession spark = builder.getOrCreate();
        try {
            run(spark, input, output, model, args.getOrDefault("--prompt", "Describe the image in one sentence."),
                    Integer.parseInt(args.getOrDefault("--max-tokens", "32")));
        } finally {
            spark.stop();
        }
    }

    static void run(SparkSession spark, String input, String output, String model, String prompt, int maxTokens) {
        // sparkmm's multimodal source: one row per image file; content is read because it is selected
        Dataset<Row> images = spark.read().format("multimodal").option("modality", "image").load(input)
                .select(col("path"), col("content"));
        MultimodalGenerator generator = new MultimodalGenerator().setModelPath(model).setPromptTemplate(prompt
                .replace("{", "{{").replace("}", "}}")).setImageCol("content").setKeyCol("path")
                .setMaxTokens(maxTokens).setTemperature(0);
        long t0 = System.nanoTime();
        Dataset<Row> captions = generator.transform(images).select(col("path"), col("generation"));
        captions.write().mode(SaveMode.Overwrite).parquet(output);
        double seconds = (System.nanoTime() - t0) / 1e9;

        GeneratorMetrics m = generator.lastMetrics();
        System.out.printf(Locale.ROOT, "sparkmm: %d rows, %d errors in %.1f s: %.2f rows/s, %.1f generated tokens/s "
                        + "(%d prompt tokens, %d from the prefix cache)%n", m.rows(), m.errors(), seconds,
                m.rows() / seconds, m.generatedTokens() / seconds, m.promptTokens(), m.cachedTokens());
        spark.read().parquet(output).select(col("path"), col("generation.text"), col("generation.error"))
                .show(5, 60);
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (!k.startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + k + "'; usage: --input DIR "
                        + "--output DIR [--model DIR] [--prompt TEXT] [--max-tokens N] [--master local[2]]");
            }
            out.put(k, argv[++i]);
        }
        return out;
    }

    private static String required(Map<String, String> args, String name) {
        String v = args.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name + " (usage: --input DIR --output DIR [--model DIR] "
                    + "[--prompt TEXT] [--max-tokens N] [--master local[2]])");
        }
        return v;
    }

    /** For tests: runs the job in an existing session. */
    public static void runIn(SparkSession spark, Path input, Path output, Path model, String prompt) {
        run(spark, input.toString(), output.toString(), model.toString(), prompt, 8);
    }
}
