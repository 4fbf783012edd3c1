package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.models.qwenvl.TinyQwenVlCheckpoint;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.media.MediaSource;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tiny Qwen-VL checkpoint through MultimodalGenerator in local[2]: a DataFrame of images (bytes
 * with Qwen-VL's {@code Picture 1: <img></img>} prompts, paths in chat mode), among them a 1 x 1
 * and a 20000 x 20 image, checked against the engine alone; a corrupt image and an unclosed
 * {@code <img>} fail their own rows only.
 */
class QwenVlSparkTest {

    private static final int MAX_TOKENS = 4;
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("prompt", DataTypes.StringType, true)
            .add("image", DataTypes.BinaryType, true);
    private static final int[][] SIZES = {{90, 60}, {1, 1}, {20000, 20}, {300, 200}};

    private static SparkSession spark;
    private static Path model;
    private static Path media;
    private static final List<byte[]> PNGS = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        model = TinyQwenVlCheckpoint.write(SparkTestSupport.TARGET.resolve("checkpoints/qwen-vl-spark"),
                TinyQwenVlCheckpoint.Spec.tiny());
        media = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/qwenvl"));
        for (int i = 0; i < SIZES.length; i++) {
            PNGS.add(png(SIZES[i][0], SIZES[i][1], i));
            Files.write(media.resolve("img" + i + ".png"), PNGS.get(i));
        }
        spark = SparkTestSupport.session("local[2]", "QwenVlSparkTest").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static byte[] png(int width, int height, int seed) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.setRGB(x, y, (((x * (seed + 1)) % 256) << 16) | (((y * 7 + seed * 40) % 256) << 8) | ((x + y) % 256));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private record Req(String prompt, boolean chat, MediaSource image) {
    }

    private static List<EngineResult> engineAlone(List<Req> reqs) {
        return SparkTestSupport.engineAlone(model, reqs.stream().map(r -> new PromptInput(r.prompt(), null, r.chat(), null,
                r.image() == null ? List.<MediaSource>of() : List.of(r.image()), List.of(), List.of())).toList(),
                SamplingParams.greedy(MAX_TOKENS));
    }

    private static MultimodalGenerator generator() {
        return new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt").setKeyCol("id")
                .setImageCol("image").setMaxTokens(MAX_TOKENS).setTemperature(0);
    }

    @Test
    void aDataFrameOfImagesMatchesTheEngineAloneAndBadRowsFailAlone() {
        List<Row> bytes = new ArrayList<>();
        List<Req> reqs = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            String prompt = "Picture 1: <img>img" + i + ".png</img>\nWhat is in it?";
            bytes.add(RowFactory.create("b" + i, prompt, PNGS.get(i)));
            reqs.add(new Req(prompt, false, MediaSource.ofBytes("b" + i, PNGS.get(i))));
        }
        bytes.add(RowFactory.create("text", "No picture, just words.", null));
        reqs.add(new Req("No picture, just words.", false, null));
        bytes.add(RowFactory.create("corrupt", "Picture 1: <img></img>\nWhat?", new byte[] {9, 9, 9, 9}));
        bytes.add(RowFactory.create("unclosed", "Picture 1: <img>x.png\nWhat?", PNGS.get(0)));
        List<Row> out = generator().setChatTemplate(false).transform(spark.createDataFrame(
                new JavaSparkContext(spark.sparkContext()).parallelize(bytes, 2), SCHEMA)).collectAsList();

        StructType pathSchema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.StringType);
        List<Row> paths = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            Path p = media.resolve("img" + i + ".png");
            paths.add(RowFactory.create("p" + i, "Describe the picture.", p.toString()));
            reqs.add(new Req("Describe the picture.", true, MediaSource.ofPath(p.toString())));
        }
        List<Row> chat = generator().transform(spark.createDataFrame(
                new JavaSparkContext(spark.sparkContext()).parallelize(paths, 2), pathSchema)).collectAsList();

        List<Row> good = new ArrayList<>(out.subList(0, SIZES.length + 1));
        good.addAll(chat);
        List<EngineResult> oracle = engineAlone(reqs);
        assertThat(out).extracting(r -> r.getString(0))
                .containsExactly("b0", "b1", "b2", "b3", "text", "corrupt", "unclosed");
        for (int i = 0; i < good.size(); i++) {
            Row g = good.get(i).getStruct(good.get(i).fieldIndex("generation"));
            String id = good.get(i).getString(0);
            assertThat(g.isNullAt(5)).as("error of %s: %s", id, g.get(5)).isTrue();
            assertThat(oracle.get(i).ok()).as("oracle %s: %s", id, oracle.get(i).error()).isTrue();
            assertThat(g.getString(0)).as("text of %s", id).isEqualTo(oracle.get(i).text());
            assertThat(g.getInt(2)).as("prompt_tokens of %s", id).isEqualTo(oracle.get(i).promptTokens());
            assertThat(g.getInt(3)).as("completion_tokens of %s", id).isEqualTo(MAX_TOKENS);
        }
        // every image, whatever its size, becomes <img> + 256 pads + </img>
        assertThat(good.subList(0, SIZES.length).stream().map(r -> r.getStruct(r.fieldIndex("generation")).getInt(2))
                .distinct()).hasSize(1);
        Row corrupt = out.get(SIZES.length + 1).getStruct(out.get(SIZES.length + 1).fieldIndex("generation"));
        Row unclosed = out.get(SIZES.length + 2).getStruct(out.get(SIZES.length + 2).fieldIndex("generation"));
        assertThat(corrupt.getString(5)).isNotBlank();
        assertThat(unclosed.getString(5)).contains("unclosed image reference");
    }
}
