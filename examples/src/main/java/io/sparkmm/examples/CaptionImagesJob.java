package io.sparkmm.examples;

import io.sparkmm.connector.generate.MultimodalGenerator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;

import static org.apache.spark.sql.functions.col;

/**
 * Captions every image under a directory and writes Parquet (path, caption struct).
 *
 * <pre>
 * spark-submit --class io.sparkmm.examples.CaptionImagesJob app.jar \
 *     --input DIR --output DIR [--model DIR] [--prompt TEXT] [--max-tokens N] [--master local[2]]
 * </pre>
 *
 * Without --model it uses the embedded default model ({@link DefaultModel}), which describes images
 * of one colored shape on a plain background (see {@link ShapeImages}); --model takes a checkpoint
 * directory readable on every executor, or classpath:NAME. --master is for local runs; under
 * spark-submit leave it out and pass --master to spark-submit.
 */
public final class CaptionImagesJob {

    private CaptionImagesJob() {
    }

    static final String USAGE = "--input DIR --output DIR [--model DIR|classpath:NAME] [--prompt TEXT] "
            + "[--max-tokens N] [--master local[2]]";

    public static void main(String[] argv) {
        JobArgs args = JobArgs.parse(argv, USAGE);
        String input = args.required("--input");
        String output = args.required("--output");
        String model = args.get("--model", null);
        if (model == null) {
            model = DefaultModel.LOCATION;
            System.out.println("no --model: using the embedded default model (" + model + ")");
        }
        SparkSession spark = args.session("sparkmm caption images");
        try {
            run(spark, input, output, model, args.get("--prompt", "Describe the image."),
                    Integer.parseInt(args.get("--max-tokens", "32")));
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

        System.out.println("sparkmm: " + generator.lastMetrics().summary(seconds));
        spark.read().parquet(output).select(col("path"), col("generation.text"), col("generation.error"))
                .show(5, 60);
    }

    /** For tests: runs the job in an existing session. */
    public static void runIn(SparkSession spark, Path input, Path output, Path model, String prompt) {
        run(spark, input.toString(), output.toString(), model.toString(), prompt, 8);
    }
}
