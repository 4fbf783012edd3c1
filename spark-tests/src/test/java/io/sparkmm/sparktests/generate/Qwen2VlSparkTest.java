package io.sparkmm.sparktests.generate;

import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.models.qwen2vl.TinyQwen2VlCheckpoint;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.media.MediaSource;
import org.apache.spark.api.java.JavaSparkContext;
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
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tiny Qwen2-VL and Qwen2.5-VL checkpoints through MultimodalGenerator, the multimodal source and
 * mm_generate in local[2]: images as bytes and paths, videos with and without an image, routing by
 * the source's modality, per-request processor settings; each checked against the engine alone.
 */
class Qwen2VlSparkTest {

    private static final int MAX_TOKENS = 5;
    private static final String IMAGE = TinyQwen2VlCheckpoint.VISION_START + TinyQwen2VlCheckpoint.IMAGE_PAD
            + TinyQwen2VlCheckpoint.VISION_END;
    /** Sizes around and above the checkpoints' 56x56 .. 448x448 budget, so grids (and token counts) differ. */
    private static final int[][] SIZES = {{60, 40}, {200, 150}, {90, 130}, {300, 220}};
    private static final StructType IMAGE_BYTES = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("prompt", DataTypes.StringType, true)
            .add("image", DataTypes.BinaryType, true);

    private static SparkSession spark;
    private static Path qwen2;
    private static Path qwen25;
    private static Path media;
    private static Path clipA;
    private static Path clipB;
    private static final List<byte[]> PNGS = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        Path checkpoints = SparkTestSupport.TARGET.resolve("checkpoints");
        qwen2 = TinyQwen2VlCheckpoint.write(checkpoints.resolve("qwen2-vl-spark"), TinyQwen2VlCheckpoint.Spec.qwen2Vl());
        qwen25 = TinyQwen2VlCheckpoint.write(checkpoints.resolve("qwen25-vl-spark"), TinyQwen2VlCheckpoint.Spec.qwen25Vl());
        media = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/qwen2vl"));
        for (int i = 0; i < SIZES.length; i++) {
            PNGS.add(png(SIZES[i][0], SIZES[i][1], i));
            Files.write(media.resolve("img" + i + ".png"), PNGS.get(i));
        }
        clipA = ffmpeg(media.resolve("clip-a.mp4"), "testsrc=size=96x64:rate=10:duration=2");
        clipB = ffmpeg(media.resolve("clip-b.mp4"), "testsrc2=size=80x80:rate=10:duration=1");
        spark = SparkTestSupport.session("local[2]", "Qwen2VlSparkTest")
                .config("spark.sql.extensions", "io.sparkmm.connector.sql.SparkmmExtensions")
                .config("spark.sparkmm.model", qwen2.toString())
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    // ---- fixtures ----

    /** A smooth random RGB image of the given size, PNG-encoded. */
    private static byte[] png(int width, int height, long seed) {
        Random r = new Random(seed);
        double[] a = new double[6];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextDouble() * 0.2;
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rr = (int) (127 + 127 * Math.sin(a[0] * x + a[1] * y));
                int gg = (int) (127 + 127 * Math.sin(a[2] * x - a[3] * y));
                int bb = (int) (127 + 127 * Math.cos(a[4] * x + a[5] * y));
                img.setRGB(x, y, (rr << 16) | (gg << 8) | bb);
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

    /** ffmpeg's lavfi test source to an H.264 mp4; a missing ffmpeg fails the class, never skips it. */
    private static Path ffmpeg(Path out, String lavfi) {
        List<String> cmd = List.of("ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i", lavfi,
                "-pix_fmt", "yuv420p", out.toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + log);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("the ffmpeg CLI is needed to make test videos (apt-get install ffmpeg)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** One request of the oracle. */
    private record Req(String prompt, boolean chat, List<MediaSource> images, List<MediaSource> videos) {
    }

    /** The same requests through a separately loaded model and engine, no Spark, no connector code. */
    private static List<EngineResult> engineAlone(Path model, List<Req> reqs, ProcessorKwargs kwargs) {
        try (EngineSession session = EngineSession.open(model.toString(),
                EngineOptions.defaults().withEngine(EngineConfig.defaults()).withProcessorCacheBytes(64L << 20))) {
            Engine engine = session.engine();
            MultimodalProcessor processor = session.requests();
            List<RequestHandle> handles = new ArrayList<>();
            for (Req r : reqs) {
                PromptInput p = new PromptInput(r.prompt(), null, r.chat(), null, r.images(), List.of(), r.videos(), kwargs);
                handles.add(engine.submit(processor.build(null, p, SamplingParams.greedy(MAX_TOKENS))));
            }
            List<EngineResult> out = new ArrayList<>();
            for (RequestHandle h : handles) {
                EngineResult r = h.result().join();
                assertThat(r.ok()).as("oracle request failed: %s", r.error()).isTrue();
                out.add(r);
            }
            return out;
        }
    }

    private static List<MediaSource> bytesItem(String name, byte[] b) {
        return b == null ? List.of() : List.of(MediaSource.ofBytes(name, b));
    }

    private static List<MediaSource> pathItem(Object p) {
        return p == null ? List.of() : List.of(MediaSource.ofPath(p.toString()));
    }

    private static MultimodalGenerator generator(Path model) {
        return new MultimodalGenerator().setModelPath(model.toString()).setPromptCol("prompt").setKeyCol("id")
                .setMaxTokens(MAX_TOKENS).setTemperature(0);
    }

    /** Rows of the generator's output, checked: same ids in input order, no errors. */
    private static List<Row> generated(Dataset<Row> out, List<String> ids) {
        List<Row> rows = out.collectAsList();
        assertThat(rows).extracting(r -> r.getString(0)).containsExactlyElementsOf(ids);
        for (Row r : rows) {
            Row g = r.getStruct(r.fieldIndex("generation"));
            assertThat(g.isNullAt(5)).as("error of %s: %s", r.getString(0), g.get(5)).isTrue();
            assertThat(g.getInt(3)).isBetween(1, MAX_TOKENS);
        }
        return rows;
    }

    /** Text, prompt tokens and completion tokens of each row equal the oracle's. */
    private static void assertSameAsOracle(List<Row> rows, List<EngineResult> oracle) {
        assertThat(rows).hasSameSizeAs(oracle);
        for (int i = 0; i < rows.size(); i++) {
            Row g = rows.get(i).getStruct(rows.get(i).fieldIndex("generation"));
            EngineResult o = oracle.get(i);
            String id = rows.get(i).getString(0);
            assertThat(g.getString(0)).as("text of %s", id).isEqualTo(o.text());
            assertThat(g.getInt(2)).as("prompt_tokens of %s", id).isEqualTo(o.promptTokens());
            assertThat(g.getInt(3)).as("completion_tokens of %s", id).isEqualTo(o.completionTokens());
        }
    }

    private static int promptTokens(Row r) {
        return r.getStruct(r.fieldIndex("generation")).getInt(2);
    }

    /** Image rows as bytes: every size once, plus one text-only row; prompts carry the placeholder. */
    private static List<Row> imageRows() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < PNGS.size(); i++) {
            rows.add(RowFactory.create("img" + i, IMAGE + "What is in picture " + i + "?", PNGS.get(i)));
        }
        rows.add(RowFactory.create("text", "Say something.", null));
        return rows;
    }

    /** Rows in order over {@code partitions} partitions (parallelize keeps the order, unlike repartition). */
    private static Dataset<Row> frame(List<Row> rows, StructType schema, int partitions) {
        return spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, partitions), schema);
    }

    private static List<String> ids(List<Row> rows) {
        return rows.stream().map(r -> r.getString(0)).toList();
    }

    // ---- tests ----

    @Test
    void imagesAsBytesAndAsPathsMatchTheEngineAlone() {
        StructType pathSchema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("image", DataTypes.StringType);
        List<Row> in = imageRows();
        List<Row> paths = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            paths.add(RowFactory.create("p" + i, "Describe picture " + i + ".", media.resolve("img" + i + ".png").toString()));
        }
        paths.add(RowFactory.create("nopath", "Describe nothing.", null));
        // bytes with prompts written with the vision tokens (chat template off); paths with the chat template on
        List<Req> reqs = new ArrayList<>();
        in.forEach(r -> reqs.add(new Req(r.getString(1), false, bytesItem(r.getString(0), (byte[]) r.get(2)), List.of())));
        paths.forEach(r -> reqs.add(new Req(r.getString(1), true, pathItem(r.get(2)), List.of())));
        for (Path model : List.of(qwen2, qwen25)) {
            List<Row> out = new ArrayList<>(generated(generator(model).setImageCol("image").setChatTemplate(false)
                    .transform(frame(in, IMAGE_BYTES, 2)), ids(in)));
            // the images' sizes reached the processor: different grids, different prompt lengths
            assertThat(out.subList(0, SIZES.length).stream().map(Qwen2VlSparkTest::promptTokens).distinct().count())
                    .as("prompt_tokens of %s", model.getFileName()).isEqualTo(SIZES.length);
            out.addAll(generated(generator(model).setImageCol("image").transform(frame(paths, pathSchema, 2)), ids(paths)));
            assertSameAsOracle(out, engineAlone(model, reqs, ProcessorKwargs.NONE));
        }
    }

    @Test
    void videoColumnWithAndWithoutAnImageInChatMode() {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("video", DataTypes.StringType).add("image", DataTypes.BinaryType);
        List<Row> in = List.of(
                RowFactory.create("a", "What happens in the clip?", clipA.toString(), null),
                RowFactory.create("a+img", "Compare the clip and the picture.", clipA.toString(), PNGS.get(1)),
                RowFactory.create("b+img", "Compare the clip and the picture.", clipB.toString(), PNGS.get(0)),
                RowFactory.create("img", "Compare the clip and the picture.", null, PNGS.get(0)),
                RowFactory.create("b", "What happens in the clip?", clipB.toString(), null));
        for (Path model : List.of(qwen2, qwen25)) {
            List<Row> out = generated(generator(model).setVideoCol("video").setImageCol("image")
                    .transform(frame(in, schema, 2)), ids(in));
            List<Req> reqs = in.stream().map(r -> new Req(r.getString(1), true,
                    bytesItem(r.getString(0), (byte[]) r.get(3)), pathItem(r.get(2)))).toList();
            assertSameAsOracle(out, engineAlone(model, reqs, ProcessorKwargs.NONE));
            // the video's tokens are in the prompt: b+img = img's prompt + clip b's tokens
            int clipBTokens = promptTokens(out.get(2)) - promptTokens(out.get(3));
            assertThat(clipBTokens).as("clip b's tokens in %s", model.getFileName()).isGreaterThan(4);
            assertThat(promptTokens(out.get(1))).isGreaterThan(promptTokens(out.get(0)));
        }
    }

    @Test
    void multimodalSourceRoutesEachFileByModalityAndABadVideoIsItsRowsError() throws IOException {
        Path dir = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/qwen2vl-source"));
        Files.write(dir.resolve("small.png"), PNGS.get(0));
        Files.write(dir.resolve("large.png"), PNGS.get(3));
        Files.copy(clipA, dir.resolve("clip.mp4"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.write(dir.resolve("broken.mp4"), "this is not an mp4 at all, just some text".getBytes());

        Dataset<Row> files = spark.read().format("multimodal").option("modality", "image,video").load(dir.toString());
        Dataset<Row> requests = files.select(col("path").as("id"), col("modality"),
                lit("Describe it.").as("prompt"),
                when(col("modality").equalTo("image"), col("content")).as("image"),
                when(col("modality").equalTo("video"), col("content")).as("video"));
        List<Row> out = generator(qwen25).setImageCol("image").setVideoCol("video").transform(requests)
                .orderBy("id").collectAsList();

        assertThat(out).extracting(r -> Path.of(r.getString(0).replaceFirst("^file:", "")).getFileName().toString())
                .containsExactly("broken.mp4", "clip.mp4", "large.png", "small.png");
        assertThat(out).extracting(r -> r.getString(1)).containsExactly("video", "video", "image", "image");
        Row broken = out.get(0).getStruct(out.get(0).fieldIndex("generation"));
        assertThat(broken.getString(5)).as("the corrupt file's error names it").contains("broken.mp4");
        assertThat(broken.isNullAt(0)).isTrue();

        List<Row> good = out.subList(1, 4);
        List<Req> reqs = List.of(
                new Req("Describe it.", true, List.of(), List.of(MediaSource.ofPath(dir.resolve("clip.mp4").toString()))),
                new Req("Describe it.", true, List.of(MediaSource.ofPath(dir.resolve("large.png").toString())), List.of()),
                new Req("Describe it.", true, List.of(MediaSource.ofPath(dir.resolve("small.png").toString())), List.of()));
        for (Row r : good) {
            Row g = r.getStruct(r.fieldIndex("generation"));
            assertThat(g.isNullAt(5)).as("error of %s: %s", r.getString(0), g.get(5)).isTrue();
        }
        assertSameAsOracle(good, engineAlone(qwen25, reqs, ProcessorKwargs.NONE));
    }

    @Test
    void smallMaxPixelsShrinksTheImagesPrompts() {
        List<Row> in = imageRows();
        Dataset<Row> df = spark.createDataFrame(in, IMAGE_BYTES);
        String kwargs = "{\"max_pixels\": 12544}";
        MultimodalGenerator g = generator(qwen2).setImageCol("image").setChatTemplate(false);
        List<Row> plain = generated(g.transform(df), ids(in));
        List<Row> small = generated(g.copy().setMmProcessorKwargs(kwargs).transform(df), ids(in));
        // 200x150 and 300x220 are over 112x112 pixels and shrink; 60x40 and 90x130 (84x140 after rounding to
        // 28) already fit, and the text-only row has nothing to resize
        for (int i = 0; i <= SIZES.length; i++) {
            String id = in.get(i).getString(0);
            if (i == 1 || i == 3) {
                assertThat(promptTokens(small.get(i))).as(id).isLessThan(promptTokens(plain.get(i)));
            } else {
                assertThat(promptTokens(small.get(i))).as(id).isEqualTo(promptTokens(plain.get(i)));
            }
        }
        List<Req> reqs = in.stream().map(r -> new Req(r.getString(1), false,
                bytesItem(r.getString(0), (byte[]) r.get(2)), List.of())).toList();
        assertSameAsOracle(small, engineAlone(qwen2, reqs, new ProcessorKwargs(Map.of("max_pixels", 12544))));
    }

    @Test
    void sqlFunctionOnQwen2VlGivesTheGeneratorsRowsAndTakesProcessorSettings() {
        List<Row> in = imageRows();
        spark.createDataFrame(in, IMAGE_BYTES).createOrReplaceTempView("qwen_pictures");
        Map<String, Row> viaFrame = new HashMap<>();
        for (Row r : generated(generator(qwen2).setImageCol("image").setChatTemplate(false)
                .transform(spark.table("qwen_pictures")), ids(in))) {
            viaFrame.put(r.getString(0), r.getStruct(3));
        }
        String options = "map('maxTokens', '" + MAX_TOKENS + "', 'temperature', '0', 'chatTemplate', 'false')";
        List<Row> viaSql = spark.sql("SELECT id, mm_generate(prompt, image, " + options + ") AS generation"
                + " FROM qwen_pictures").collectAsList();
        assertThat(viaSql).hasSize(in.size());
        for (Row r : viaSql) {
            Row g = r.getStruct(1);
            Row f = viaFrame.get(r.getString(0));
            assertThat(g.isNullAt(5)).as("error of %s: %s", r.getString(0), g.get(5)).isTrue();
            assertThat(List.of(g.get(0), g.get(2), g.get(3))).as(r.getString(0)).isEqualTo(List.of(f.get(0), f.get(2), f.get(3)));
        }
        // options reach the processor through SQL too
        Row large = spark.sql("SELECT mm_generate(prompt, image, map('maxTokens', '2', 'chatTemplate', 'false', 'mmProcessorKwargs',"
                + " '{\"max_pixels\": 12544}')) AS g FROM qwen_pictures WHERE id = 'img3'").first().getStruct(0);
        assertThat(large.isNullAt(5)).as("error: %s", large.get(5)).isTrue();
        assertThat(large.getInt(2)).isLessThan(viaFrame.get("img3").getInt(2));

        // a video through SQL: mediaModality says what the media argument is
        StructType videos = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("video", DataTypes.StringType);
        List<Row> clips = List.of(RowFactory.create("a", "What happens in the clip?", clipA.toString()),
                RowFactory.create("b", "What happens in the clip?", clipB.toString()));
        spark.createDataFrame(clips, videos).createOrReplaceTempView("qwen_clips");
        Map<String, Row> clipFrame = new HashMap<>();
        for (Row r : generated(generator(qwen2).setVideoCol("video").transform(spark.table("qwen_clips")), ids(clips))) {
            clipFrame.put(r.getString(0), r.getStruct(3));
        }
        String videoOptions = "map('maxTokens', '" + MAX_TOKENS + "', 'temperature', '0', 'mediaModality', 'video')";
        for (Row r : spark.sql("SELECT id, mm_generate(prompt, video, " + videoOptions + ") AS g FROM qwen_clips")
                .collectAsList()) {
            Row g = r.getStruct(1);
            Row f = clipFrame.get(r.getString(0));
            assertThat(g.isNullAt(5)).as("error of %s: %s", r.getString(0), g.get(5)).isTrue();
            assertThat(List.of(g.get(0), g.get(2), g.get(3))).as(r.getString(0)).isEqualTo(List.of(f.get(0), f.get(2), f.get(3)));
        }
    }
}
