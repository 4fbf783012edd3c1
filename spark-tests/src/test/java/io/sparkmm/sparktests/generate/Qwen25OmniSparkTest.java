package io.sparkmm.sparktests.generate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.connector.generate.MultimodalGenerator;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.media.MediaSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

/**
 * The tiny Qwen2.5-Omni thinker that transformers saved (the engine tests' fixture) through
 * MultimodalGenerator over a DataFrame: two audio rows, a video-with-sound row whose audio track is
 * interleaved (the connector option mmProcessorKwargs {"use_audio_in_video": true}) and a video
 * without an audio track under the same option. The audio rows give transformers' greedy tokens
 * and prompt lengths (qwen25omni_fixtures.py), the video row the engine alone's text and a prompt
 * length counted by hand, the silent video an error naming its file; one output row per input row.
 * In SQL, mm_generate's own map takes the same mmProcessorKwargs per call.
 */
class Qwen25OmniSparkTest {

    private static final Path ENGINE_TEST = Path.of("../engine/src/test/resources").toAbsolutePath().normalize();
    private static final Path MODEL = ENGINE_TEST.resolve("checkpoints-qwen25omni/qwen25_omni_thinker_tiny");
    private static final String AUDIO = "<|audio_bos|><|AUDIO|><|audio_eos|>";
    private static final String VIDEO_PROMPT = "<|vision_bos|><|VIDEO|><|vision_eos|> describe the video .";
    private static final String KWARGS = "{\"use_audio_in_video\": true}";
    private static final StructType SCHEMA = new StructType().add("id", DataTypes.StringType)
            .add("prompt", DataTypes.StringType).add("audio", DataTypes.StringType).add("video", DataTypes.StringType);

    private static SparkSession spark;
    private static Path dir;
    private static JsonNode fixtures;

    @BeforeAll
    static void start() throws IOException {
        assertThat(MODEL.resolve("config.json")).as("the tiny Qwen2.5-Omni checkpoint").isRegularFile();
        fixtures = new ObjectMapper().readTree(ENGINE_TEST.resolve("qwen25omni/qwen25omni_fixtures.json").toFile());
        dir = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/qwen25omni"));
        spark = SparkTestSupport.session("local[2]", "Qwen25OmniSparkTest")
                .config("spark.sql.extensions", "io.sparkmm.connector.sql.SparkmmExtensions")
                .config("spark.sparkmm.model", MODEL.toString())
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static JsonNode fixtureCase(String name) {
        for (JsonNode c : fixtures.get("cases")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError(name);
    }

    private static Path clip(JsonNode c) throws IOException {
        int n = c.get("clips").get(0).get(0).asInt();
        int seed = c.get("clips").get(0).get(1).asInt();
        Path out = dir.resolve("clip-" + n + ".wav");
        Files.write(out, Qwen2AudioSparkTest.floatWav(Qwen2AudioSparkTest.clip(n, seed), 16000));
        return out;
    }

    /** 2 s of 56x56 test pattern at 2 fps, lossless, with a 2 s 440 Hz tone as float PCM or no audio. */
    private static Path video(String name, boolean sound) throws Exception {
        Path out = dir.resolve(name);
        List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                "testsrc=size=56x56:rate=2:duration=2"));
        if (sound) {
            cmd.addAll(List.of("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=2", "-c:a", "pcm_f32le"));
        }
        cmd.addAll(List.of("-c:v", "ffv1", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(log).isZero();
        return out;
    }

    @Test
    void audioRowsAndAVideoWithItsSoundThroughTheGenerator() throws Exception {
        JsonNode a1 = fixtureCase("audio");
        JsonNode a2 = fixtureCase("audio_long");
        Path withSound = video("with-sound.mkv", true);
        Path mute = video("mute.mkv", false);
        List<Row> rows = List.of(
                RowFactory.create("a1", a1.get("prompt").asText(), clip(a1).toString(), null),
                RowFactory.create("v1", VIDEO_PROMPT, null, withSound.toString()),
                RowFactory.create("mute", VIDEO_PROMPT, null, mute.toString()),
                RowFactory.create("a2", a2.get("prompt").asText(), clip(a2).toString(), null));
        Dataset<Row> in = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 2), SCHEMA);
        // plain prompts that carry their placeholders (chat mode is Qwen25OmniCliTest's)
        List<Row> out = new MultimodalGenerator().setModelPath(MODEL.toString()).setPromptCol("prompt").setKeyCol("id")
                .setChatTemplate(false).setAudioCol("audio").setVideoCol("video").setMmProcessorKwargs(KWARGS).setMaxTokens(5)
                .setTemperature(0).setIgnoreEos(true).setLogprobs(1).transform(in).collectAsList();
        assertThat(out).extracting(r -> r.getString(0)).containsExactly("a1", "v1", "mute", "a2");
        int g = out.get(0).fieldIndex("generation");

        for (int i : new int[] {0, 3}) {
            JsonNode c = i == 0 ? a1 : a2;
            Row r = out.get(i).getStruct(g);
            assertThat(r.isNullAt(5)).as("error of %s: %s", out.get(i).get(0), r.get(5)).isTrue();
            assertThat(r.getInt(2)).as("prompt tokens (transformers)").isEqualTo(c.get("input_ids").size());
            List<Integer> tokens = new ArrayList<>();
            for (Object step : r.getList(6)) {
                tokens.add(((Row) ((scala.collection.Seq<?>) step).apply(0)).getInt(0));
            }
            assertThat(tokens).as("greedy tokens (transformers) of %s", out.get(i).get(0))
                    .containsExactlyElementsOf(new ObjectMapper().convertValue(c.get("greedy_tokens"),
                            new com.fasterxml.jackson.core.type.TypeReference<List<Integer>>() { }));
        }

        Row v = out.get(1).getStruct(g);
        assertThat(v.isNullAt(5)).as("video error: %s", v.get(5)).isTrue();
        // by hand: 4 frames of 56x56 -> 336x336 (the Omni video budget's 128*28*28 minimum) -> grid (2, 24, 24)
        // -> 288 video tokens; 2 s of sound -> 200 mel frames -> 50 audio tokens; + audio_bos/eos, the
        // vision_bos/eos and 4 words
        assertThat(v.getInt(2)).isEqualTo(288 + 50 + 2 + 2 + 4);
        EngineResult alone = videoAlone(withSound);
        assertThat(v.getString(0)).isEqualTo(alone.text());
        assertThat(v.getInt(2)).isEqualTo(alone.promptTokens());

        Row m = out.get(2).getStruct(g);
        assertThat(m.isNullAt(0)).isTrue();
        assertThat(m.getString(5)).contains("mute.mkv").contains("no audio track");
    }

    /** The video with its sound through a separately loaded engine: no Spark, no connector. */
    private static EngineResult videoAlone(Path video) {
        PromptInput p = new PromptInput(VIDEO_PROMPT, null, false, null, List.of(), List.of(),
                List.of(MediaSource.ofPath(video.toString())), new ProcessorKwargs(Map.of("use_audio_in_video", true)));
        return SparkTestSupport.engineAlone(MODEL, List.of(p),
                SamplingParams.builder().temperature(0).maxTokens(5).ignoreEos(true).build()).get(0);
    }

    @Test
    void mmGenerateTakesUseAudioInVideoPerCall() throws Exception {
        Path withSound = video("sql-with-sound.mkv", true);
        Path mute = video("sql-mute.mkv", false);
        spark.createDataFrame(List.of(RowFactory.create("v1", VIDEO_PROMPT, null, withSound.toString()),
                RowFactory.create("v2", VIDEO_PROMPT, null, mute.toString())), SCHEMA).createOrReplaceTempView("omni_videos");
        String options = "map('mediaModality', 'video', 'chatTemplate', 'false', 'maxTokens', '5', 'temperature', '0',"
                + " 'ignoreEos', 'true', 'mmProcessorKwargs', '" + KWARGS + "')";
        List<Row> sql = spark.sql("SELECT id, mm_generate(prompt, video, " + options + ") AS g FROM omni_videos ORDER BY id")
                .collectAsList();
        assertThat(sql).extracting(r -> r.getString(0)).containsExactly("v1", "v2");
        EngineResult alone = videoAlone(withSound);
        Row v = sql.get(0).getStruct(1);
        assertThat(v.isNullAt(5)).as("video error: %s", v.get(5)).isTrue();
        assertThat(v.getString(0)).isEqualTo(alone.text());
        assertThat(v.getInt(2)).isEqualTo(alone.promptTokens()).isEqualTo(346);
        assertThat(sql.get(1).getStruct(1).getString(5)).contains("sql-mute.mkv").contains("no audio track");
        // without the option the same video is its frames alone: 288 video tokens, no sound, no audio_bos/eos
        List<Row> frames = spark.sql("SELECT mm_generate(prompt, video, map('mediaModality', 'video', 'chatTemplate',"
                + " 'false', 'maxTokens', '1')) AS g FROM omni_videos WHERE id = 'v1'").collectAsList();
        assertThat(frames.get(0).getStruct(0).getInt(2)).isEqualTo(288 + 2 + 4);
    }
}
