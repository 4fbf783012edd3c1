package io.sparkmm.sparktests.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.ProcessorKwargs;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * LLaVA-OneVision through MultimodalGenerator in local[2] with ONE DataFrame mixing rows of images,
 * of videos, of both and of several images (an array&lt;binary&gt; image column and a video path
 * column, chat mode), on the checkpoint sparkmm's writer made and transformers loads (engine's test
 * resources, with transformers' fixtures, video_fixtures.json). A row with an HF fixture must have
 * transformers' prompt length, and every row the same text as the engine alone, whose greedy tokens
 * must be transformers' where it has them; a row whose video is not a video fails alone.
 */
class LlavaOnevisionVideoSparkTest {

    private static final int MAX_TOKENS = 8;
    private static final Path RESOURCES = Path.of("..", "engine", "src", "test", "resources").toAbsolutePath().normalize();
    private static final Path MODEL = RESOURCES.resolve("checkpoints-llava-onevision/llava_onevision_ours");
    private static final Path IMAGES = RESOURCES.resolve("llava_onevision/images");

    private static SparkSession spark;
    private static JsonNode fixtures;
    private static Path videos;

    @BeforeAll
    static void start() throws Exception {
        assertThat(MODEL.resolve("config.json")).as("the tiny LLaVA-OneVision checkpoint").exists();
        fixtures = new ObjectMapper().readTree(RESOURCES.resolve("llava_onevision/video_fixtures.json").toFile());
        videos = Files.createDirectories(Path.of("target", "ov-videos").toAbsolutePath());
        for (String name : List.of("ovv-40x30x4", "ovv-50x36x3", "ovv-28x28x1")) {
            losslessVideo(name);
        }
        Files.writeString(videos.resolve("not-a-video.mkv"), "this is text, not a video");
        spark = SparkTestSupport.session("local[2]", "LlavaOnevisionVideoSparkTest").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void oneFrameOfImageVideoAndMixedRowsGivesTransformersPromptsAndTheEngineAlonesAnswers() throws Exception {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("images", DataTypes.createArrayType(DataTypes.BinaryType))
                .add("video", DataTypes.StringType);
        List<Row> in = new ArrayList<>();
        List<JsonNode> expected = new ArrayList<>();
        for (JsonNode c : fixtures.get("cases")) {
            if (!c.get("checkpoint").asText().equals("ours") || !c.get("chat").asBoolean()) {
                continue;
            }
            List<byte[]> imgs = new ArrayList<>();
            String video = null;
            String question = null;
            for (JsonNode e : c.get("content")) {
                switch (e.get(0).asText()) {
                    case "image" -> imgs.add(Files.readAllBytes(IMAGES.resolve(e.get(1).asText())));
                    case "video" -> video = videos.resolve(e.get(1).asText() + ".mkv").toString();
                    default -> question = e.get(1).asText();
                }
            }
            in.add(RowFactory.create(c.get("name").asText(), question, imgs.isEmpty() ? null : seq(imgs), video));
            expected.add(c);
        }
        // rows without a transformers fixture: images only (one and two), and a broken video
        byte[] wide = Files.readAllBytes(IMAGES.resolve("ov-150x12.png"));
        byte[] small = Files.readAllBytes(IMAGES.resolve("ov-26x26.png"));
        in.add(RowFactory.create("one image", "what is in this image ?", seq(List.of(wide)), null));
        in.add(RowFactory.create("two images", "what is in this image ?", seq(List.of(wide, small)), null));
        in.add(RowFactory.create("broken video", "what is in this image ?", null,
                videos.resolve("not-a-video.mkv").toString()));
        assertThat(expected).hasSizeGreaterThanOrEqualTo(4);
        assertThat(expected).anySatisfy(c -> assertThat(c.get("image_tokens").asInt()).isZero());
        assertThat(expected).anySatisfy(c -> assertThat(c.get("image_tokens").asInt()).isPositive());

        MultimodalGenerator g = new MultimodalGenerator().setModelPath(MODEL.toString()).setPromptCol("prompt")
                .setKeyCol("id").setImageCol("images").setVideoCol("video").setMaxTokens(MAX_TOKENS)
                .setTemperature(0).setIgnoreEos(true).setChatTemplate(true);
        List<Row> out = g.transform(spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(in, 2),
                schema)).collectAsList();
        assertThat(out).hasSameSizeAs(in);

        List<Row> good = in.subList(0, in.size() - 1);
        List<EngineResult> alone = engineAlone(good);
        for (int i = 0; i < in.size(); i++) {
            String id = in.get(i).getString(0);
            assertThat(out.get(i).getString(0)).isEqualTo(id);
            Row gen = out.get(i).getStruct(out.get(i).fieldIndex("generation"));
            if (id.equals("broken video")) {
                assertThat(gen.getString(5)).as("the broken row's error").contains("not-a-video.mkv");
                continue;
            }
            assertThat(gen.isNullAt(5)).as("error of %s: %s", id, gen.get(5)).isTrue();
            assertThat(gen.getString(0)).as("text of %s", id).isEqualTo(alone.get(i).text());
            assertThat(gen.getInt(3)).isEqualTo(MAX_TOKENS);
            if (i < expected.size()) {
                JsonNode c = expected.get(i);
                assertThat(gen.getInt(2)).as("prompt_tokens of %s (transformers' expansion)", id)
                        .isEqualTo(c.get("input_ids").size());
                assertThat(alone.get(i).tokenIds()).as("greedy tokens of %s (transformers')", id)
                        .containsExactly(ints(c.get("greedy_ids")));
            }
        }
    }

    /** The same requests through a separately loaded engine, no Spark, no connector code. */
    private static List<EngineResult> engineAlone(List<Row> rows) {
        List<PromptInput> prompts = new ArrayList<>();
        for (Row r : rows) {
            List<MediaSource> images = new ArrayList<>();
            if (!r.isNullAt(2)) {
                List<byte[]> bytes = r.getList(2);
                for (int k = 0; k < bytes.size(); k++) {
                    images.add(MediaSource.ofBytes(r.getString(0) + "-" + k, bytes.get(k)));
                }
            }
            List<MediaSource> video = r.isNullAt(3) ? List.of() : List.of(MediaSource.ofPath(r.getString(3)));
            prompts.add(new PromptInput(r.getString(1), null, true, null, images, List.of(), video, ProcessorKwargs.NONE));
        }
        return SparkTestSupport.engineAlone(MODEL, prompts,
                SamplingParams.builder().temperature(0).maxTokens(MAX_TOKENS).ignoreEos(true).build());
    }

    /** The fixture's frames (PNGs) as a lossless PNG-in-Matroska file, as the engine's conformance test makes it. */
    private static void losslessVideo(String name) throws IOException, InterruptedException {
        Path out = videos.resolve(name + ".mkv");
        if (Files.exists(out)) {
            return;
        }
        List<String> cmd = List.of("ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-framerate", "2", "-i",
                IMAGES.resolve(name + "-f%d.png").toString(), "-c:v", "png", out.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + log);
        }
    }

    private static scala.collection.Seq<byte[]> seq(List<byte[]> xs) {
        return scala.jdk.javaapi.CollectionConverters.asScala(xs).toSeq();
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
