package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.models.qwen2vl.TinyQwen2VlCheckpoint;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.media.MediaSource;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.spark_partition_id;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * balance=tokens on a skewed image set read by the multimodal source with probe=true: 48 small
 * noisy images (many bytes, 4 image tokens each), 8 large flat ones (few bytes, 256 tokens) and 4
 * large flat ones asked with a long prompt, which cannot fit the tiny Qwen2-VL's 300-token context.
 * Byte packing puts the large images together; token balancing must even the partitions out, give
 * the over-context rows their error without the engine, and keep one output row per input row.
 * A partition's cost is measured from the output (the engine's own prompt_tokens + maxTokens), not
 * from the balancer's estimate; the over-context rows are found by the engine's own processor.
 */
class TokenBalanceTest {

    private static final int CONTEXT = 300;
    private static final int MAX_TOKENS = 2;
    private static final int PARTITIONS = 4;
    private static final String SHORT = "Describe it.";
    private static final String LONG = ("Describe the picture in great detail, naming every color, every shape, every edge "
            + "and every corner you can see, and say where each one sits. ").repeat(3);

    private static SparkSession spark;
    private static Path model;
    private static Path media;
    private static Dataset<Row> input;

    @BeforeAll
    static void start() throws IOException {
        TinyCheckpoint.Spec text = new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.QWEN2, 64, 128, 2, 4, 2, false,
                io.sparkmm.kernels.DType.F32, 7, CONTEXT, 10000.0, null);
        model = TinyQwen2VlCheckpoint.write(SparkTestSupport.TARGET.resolve("checkpoints/qwen2-vl-ctx300"),
                TinyQwen2VlCheckpoint.Spec.qwen2Vl().withText(text));
        media = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/token-balance"));
        Random r = new Random(11);
        for (int i = 0; i < 48; i++) {
            write(noise(56, 56, r), "small-" + i + ".png");
        }
        for (int i = 0; i < 8; i++) {
            write(flat(448, 448, new Color(20 * i, 100, 200)), "large-" + i + ".png");
        }
        for (int i = 0; i < 4; i++) {
            write(flat(448, 448, new Color(200, 20 * i, 100)), "long-" + i + ".png");
        }
        spark = SparkTestSupport.session("local[2]", "TokenBalanceTest").getOrCreate();
        input = spark.read().format("multimodal").option("probe", "true").option("minPartitions", String.valueOf(PARTITIONS))
                .load(media.toString()).select("path", "width", "height")
                .withColumn("prompt", when(col("path").contains("/long-"), lit(LONG)).otherwise(lit(SHORT)))
                // a map column, which Spark cannot hash: the balancer's tie-break must leave it out
                .withColumn("meta", map(lit("source"), col("path")));
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static MultimodalGenerator generator() {
        return new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt").setImageCol("path")
                .setKeyCol("path").setMaxTokens(MAX_TOKENS).setTemperature(0).setDevice("cpu");
    }

    @Test
    void balancesByTokensAndRefusesRowsOverTheContext() {
        Dataset<Row> bytePacked = generator().transform(input);
        Dataset<Row> balanced = generator().setBalance("tokens").setBalancePartitions(PARTITIONS).transform(input);
        assertThat(balanced.columns()).containsExactly("path", "width", "height", "prompt", "meta", "generation");

        long[] byBytes = partitionCosts(bytePacked);
        long[] byTokens = partitionCosts(balanced);
        double bytesRatio = maxOverMean(byBytes);
        double tokensRatio = maxOverMean(byTokens);
        System.out.printf("TokenBalanceTest: partition costs (prompt + maxTokens tokens) byte-packed %s max/mean %.2f;"
                + " balanced %s max/mean %.2f%n", java.util.Arrays.toString(byBytes), bytesRatio,
                java.util.Arrays.toString(byTokens), tokensRatio);
        assertThat(byTokens).hasSize(PARTITIONS);
        assertThat(bytesRatio).as("the set is skewed for byte packing").isGreaterThan(1.8);
        assertThat(tokensRatio).as("balanced max partition cost over the mean").isLessThan(1.15);

        List<Row> rows = balanced.select("path", "generation.text", "generation.error").collectAsList();
        assertThat(rows).hasSize(60);
        Set<String> paths = new HashSet<>();
        Set<String> refused = new HashSet<>();
        for (Row row : rows) {
            paths.add(row.getString(0));
            if (row.getString(2) != null) {
                refused.add(row.getString(0));
                assertThat(row.getString(2)).as("error of %s", row.getString(0)).startsWith("row " + row.getString(0) + ": needs ")
                        .contains("context of " + CONTEXT + " tokens (max_position_embeddings); not sent to the engine");
                assertThat(row.getString(1)).isNull();
            } else {
                assertThat(row.getString(1)).as("text of %s", row.getString(0)).isNotNull();
            }
        }
        assertThat(paths).as("one output row per input row").hasSize(60);
        assertThat(refused).isEqualTo(overContextByTheEngine());
    }

    /**
     * Arrays of images with array&lt;int&gt; sizes: two large images (2 x 256 tokens) cannot fit the
     * 300-token context and are refused by the pricer (its message, not the engine's), two small
     * ones run.
     */
    @Test
    void pricesArraysOfImages() {
        String small0 = media.resolve("small-0.png").toString();
        String small1 = media.resolve("small-1.png").toString();
        String large0 = media.resolve("large-0.png").toString();
        String large1 = media.resolve("large-1.png").toString();
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("images", DataTypes.createArrayType(DataTypes.StringType))
                .add("widths", DataTypes.createArrayType(DataTypes.IntegerType))
                .add("heights", DataTypes.createArrayType(DataTypes.IntegerType));
        Dataset<Row> df = spark.createDataFrame(List.of(
                RowFactory.create("two-small", SHORT, List.of(small0, small1), List.of(56, 56), List.of(56, 56)),
                RowFactory.create("two-large", SHORT, List.of(large0, large1), List.of(448, 448), List.of(448, 448))),
                schema);
        Map<String, Row> out = new HashMap<>();
        for (Row r : generator().setImageCol("images").setKeyCol("id").setWidthCol("widths").setHeightCol("heights")
                .setBalance("tokens").setBalancePartitions(2).transform(df)
                .select("id", "generation.text", "generation.error").collectAsList()) {
            out.put(r.getString(0), r);
        }
        assertThat(out).containsOnlyKeys("two-small", "two-large");
        assertThat(out.get("two-small").getString(2)).isNull();
        assertThat(out.get("two-small").getString(1)).isNotNull();
        assertThat(out.get("two-large").getString(2)).startsWith("row two-large: needs ").contains("not sent to the engine");
    }

    /** Sum over each output partition of the engine's prompt_tokens + maxTokens of its rows that ran. */
    private static long[] partitionCosts(Dataset<Row> out) {
        List<Row> rows = out.select(spark_partition_id().as("p"), col("generation.prompt_tokens"), col("generation.error"))
                .collectAsList();
        Map<Integer, Long> cost = new HashMap<>();
        int partitions = out.rdd().getNumPartitions();
        for (int p = 0; p < partitions; p++) {
            cost.put(p, 0L);
        }
        for (Row r : rows) {
            if (r.isNullAt(2)) {
                cost.merge(r.getInt(0), (long) r.getInt(1) + MAX_TOKENS, Long::sum);
            }
        }
        return cost.values().stream().mapToLong(Long::longValue).toArray();
    }

    private static double maxOverMean(long[] costs) {
        long max = java.util.Arrays.stream(costs).max().orElseThrow();
        double mean = java.util.Arrays.stream(costs).average().orElseThrow();
        return max / mean;
    }

    /** The oracle: the rows whose prompt, as the engine's processor expands it from the decoded image, + maxTokens passes the context. */
    private static Set<String> overContextByTheEngine() {
        Set<String> out = new HashSet<>();
        try (EngineSession s = EngineSession.open(model.toString(), EngineOptions.defaults().withDevice("cpu")
                .withEngine(EngineConfig.defaults()).withProcessorCacheBytes(16L << 20))) {
            for (Row row : input.select("path", "prompt").collectAsList()) {
                PromptInput p = new PromptInput(row.getString(1), null, true, null,
                        List.of(MediaSource.ofPath(row.getString(0))), List.of(), List.of());
                int prompt = s.requests().build(null, p, SamplingParams.greedy(MAX_TOKENS)).promptTokenIds().length;
                if (prompt + MAX_TOKENS > CONTEXT) {
                    out.add(row.getString(0));
                }
            }
        }
        assertThat(out).as("the test's over-context rows are the long-prompt ones").hasSize(4)
                .allMatch(p -> p.contains("/long-"));
        return out;
    }

    private static BufferedImage noise(int w, int h, Random r) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(0xffffff));
            }
        }
        return img;
    }

    private static BufferedImage flat(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    private static void write(BufferedImage img, String name) throws IOException {
        ImageIO.write(img, "png", media.resolve(name).toFile());
    }
}
