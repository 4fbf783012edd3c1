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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tiny Qwen2-Audio checkpoint (transformers-written, committed under the engine's test
 * resources) through Spark in chat mode: audio paths via MultimodalGenerator.setAudioCol and via
 * mm_generate with mediaModality=audio, and the multimodal source's audio rows (content bytes) fed
 * to the generator. Two good clips, one corrupt file and one clip too short for an audio token:
 * one output row per input, errors only on the bad rows and naming them, and the good rows'
 * greedy text and token counts equal to the same requests through the engine alone.
 */
class Qwen2AudioSparkTest {

    private static final int MAX_TOKENS = 5;
    /** spark-tests run in their module directory; the checkpoint is the engine tests' own fixture. */
    private static final Path MODEL = Path.of("../engine/src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny")
            .toAbsolutePath().normalize();
    private static final String PROMPT = "what is this sound ?";
    /** Clip lengths in samples of the good rows (1.01 s and 7.3 s: different token counts). */
    private static final int[] GOOD = {16160, 116800};
    /** 320 samples make 2 mel frames: no audio token, which the processor refuses. */
    private static final int SHORT = 320;
    private static final StructType SCHEMA = new StructType().add("id", DataTypes.StringType)
            .add("prompt", DataTypes.StringType).add("audio", DataTypes.StringType);

    private static SparkSession spark;
    private static Path dir;
    private static final List<Row> ROWS = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        assertThat(MODEL.resolve("config.json")).as("the tiny Qwen2-Audio checkpoint").isRegularFile();
        dir = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/qwen2audio"));
        for (int n : GOOD) {
            Files.write(dir.resolve("clip" + n + ".wav"), floatWav(clip(n, n), 16000));
            ROWS.add(RowFactory.create("clip" + n, PROMPT, dir.resolve("clip" + n + ".wav").toString()));
        }
        Files.writeString(dir.resolve("corrupt.wav"), "not a wave file at all, just some text");
        ROWS.add(RowFactory.create("corrupt", PROMPT, dir.resolve("corrupt.wav").toString()));
        Files.write(dir.resolve("short.wav"), floatWav(clip(SHORT, SHORT), 16000));
        ROWS.add(RowFactory.create("short", PROMPT, dir.resolve("short.wav").toString()));
        spark = SparkTestSupport.session("local[2]", "Qwen2AudioSparkTest")
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

    /**
     * The engine tests' synthetic clip (Qwen2AudioTestClips, qwen2audio_fixtures.py): sample i is
     * 0.4 sin(2 pi 440 i / 16000) + 0.2 (u_i - 0.5), u_i from a 32-bit LCG seeded with {@code seed}.
     */
    static float[] clip(int samples, long seed) {
        float[] out = new float[samples];
        long s = seed & 0xFFFFFFFFL;
        for (int i = 0; i < samples; i++) {
            double u = (s >>> 8) / (double) (1 << 24);
            out[i] = (float) (0.4 * Math.sin(2 * Math.PI * 440.0 * i / 16000) + 0.2 * (u - 0.5));
            s = (1664525L * s + 1013904223L) & 0xFFFFFFFFL;
        }
        return out;
    }

    /** 32-bit float mono PCM: the decoder reads back exactly these samples. */
    static byte[] floatWav(float[] samples, int rate) {
        ByteBuffer b = ByteBuffer.allocate(44 + 4 * samples.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + 4 * samples.length)
                .put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 3).putShort((short) 1)
                .putInt(rate).putInt(4 * rate).putShort((short) 4).putShort((short) 32);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(4 * samples.length);
        for (float s : samples) {
            b.putFloat(s);
        }
        return b.array();
    }

    /** The good clips in chat mode through a separately loaded model and engine: no Spark, no connector. */
    private static List<EngineResult> engineAlone() {
        try (EngineSession session = EngineSession.open(MODEL.toString(),
                EngineOptions.defaults().withEngine(EngineConfig.defaults()).withProcessorCacheBytes(64L << 20))) {
            Engine engine = session.engine();
            MultimodalProcessor processor = session.requests();
            List<RequestHandle> handles = new ArrayList<>();
            for (int n : GOOD) {
                PromptInput p = new PromptInput(PROMPT, null, true, null, List.of(),
                        List.of(MediaSource.ofPath(dir.resolve("clip" + n + ".wav").toString())), List.of(),
                        ProcessorKwargs.NONE);
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

    private static MultimodalGenerator generator() {
        return new MultimodalGenerator().setModelPath(MODEL.toString()).setPromptCol("prompt").setKeyCol("id")
                .setMaxTokens(MAX_TOKENS).setTemperature(0);
    }

    /**
     * Rows (id, ..., generation struct at {@code g}) in the order clip16160, clip116800, corrupt,
     * short: the good ones equal the oracle, the bad ones carry an error naming their file.
     */
    private static void check(List<Row> rows, int g, List<EngineResult> oracle, String bad1, String bad2) {
        assertThat(rows).as("one output row per input row").hasSize(4);
        for (int i = 0; i < GOOD.length; i++) {
            Row r = rows.get(i).getStruct(g);
            assertThat(r.isNullAt(5)).as("error of %s: %s", rows.get(i).get(0), r.get(5)).isTrue();
            assertThat(r.getString(0)).as("text of %s", rows.get(i).get(0)).isEqualTo(oracle.get(i).text());
            assertThat(r.getInt(2)).as("prompt_tokens of %s", rows.get(i).get(0)).isEqualTo(oracle.get(i).promptTokens());
            assertThat(r.getInt(3)).as("completion_tokens").isEqualTo(oracle.get(i).completionTokens());
        }
        assertThat(rows.get(2).getStruct(g).getString(5)).as("the corrupt file's error").contains(bad1);
        assertThat(rows.get(3).getStruct(g).getString(5)).as("the short clip's error").contains(bad2)
                .contains("too short");
        assertThat(rows.get(2).getStruct(g).isNullAt(0)).isTrue();
        assertThat(rows.get(3).getStruct(g).isNullAt(0)).isTrue();
    }

    @Test
    void audioPathsThroughTheGeneratorAndSqlMatchTheEngineAlone() {
        List<EngineResult> oracle = engineAlone();
        // the clips' lengths reached the processor: the longer clip has more audio tokens in its prompt
        assertThat(oracle.get(1).promptTokens()).isGreaterThan(oracle.get(0).promptTokens() + 100);

        Dataset<Row> in = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(ROWS, 2), SCHEMA);
        List<Row> frame = generator().setAudioCol("audio").transform(in).collectAsList();
        assertThat(frame).extracting(r -> r.getString(0)).containsExactly("clip16160", "clip116800", "corrupt", "short");
        check(frame, frame.get(0).fieldIndex("generation"), oracle, "corrupt.wav", "short.wav");

        in.createOrReplaceTempView("qwen2audio_clips");
        List<Row> sql = spark.sql("SELECT id, mm_generate(prompt, audio, map('mediaModality', 'audio', 'maxTokens', '"
                + MAX_TOKENS + "', 'temperature', '0')) AS g FROM qwen2audio_clips ORDER BY id").collectAsList();
        // ORDER BY id: clip116800, clip16160, corrupt, short; put the good ones in the oracle's order
        assertThat(sql).extracting(r -> r.getString(0)).containsExactly("clip116800", "clip16160", "corrupt", "short");
        check(List.of(sql.get(1), sql.get(0), sql.get(2), sql.get(3)), 1, oracle, "corrupt.wav", "short.wav");
    }

    @Test
    void theMultimodalSourcesAudioRowsFeedTheGenerator() {
        Dataset<Row> files = spark.read().format("multimodal").option("modality", "audio").load(dir.toString());
        Dataset<Row> requests = files.select(col("path").as("id"), col("modality"), lit(PROMPT).as("prompt"),
                col("content"));
        List<Row> out = generator().setAudioCol("content").transform(requests).collectAsList();
        assertThat(out).extracting(r -> r.getString(1)).containsOnly("audio");
        List<Row> ordered = new ArrayList<>();
        for (String name : List.of("clip16160.wav", "clip116800.wav", "corrupt.wav", "short.wav")) {
            ordered.add(out.stream().filter(r -> r.getString(0).endsWith("/" + name)).findFirst()
                    .orElseThrow(() -> new AssertionError(name + " missing from " + out)));
        }
        check(ordered, out.get(0).fieldIndex("generation"), engineAlone(), "corrupt.wav", "short.wav");
    }

    /**
     * balance=tokens on audio read by the multimodal source with probe=true. Eight 20 s clips stored
     * as 8 kHz 16-bit PCM (16 KB a second, 500 audio tokens each) and 24 clips of 3 s stored as
     * 16 kHz float (64 KB a second, 75 tokens each): packing the files by bytes puts the long clips
     * together, so a few tasks carry most of the tokens; priced by duration the partitions even out.
     * A partition's cost is measured from the output (the engine's own prompt_tokens + maxTokens).
     * Then an array of seven 30 s clips (7 x 750 tokens) cannot fit the 4096-token context and is
     * refused by the pricer without reaching the engine, while an array of two runs.
     */
    @Test
    void balanceTokensPricesClipsByTheirDuration() throws IOException {
        Path media = Files.createDirectories(SparkTestSupport.TARGET.resolve("media/qwen2audio-balance"));
        for (int i = 0; i < 8; i++) {
            Files.write(media.resolve("long-" + i + ".wav"), pcm16Wav(clip(20 * 8000, 100 + i), 8000));
        }
        for (int i = 0; i < 24; i++) {
            Files.write(media.resolve("short-" + i + ".wav"), floatWav(clip(3 * 16000, 200 + i), 16000));
        }
        Dataset<Row> in = spark.read().format("multimodal").option("probe", "true").option("minPartitions", "4")
                .load(media.toString()).select(col("path"), col("duration_s"), lit(PROMPT).as("prompt"));
        MultimodalGenerator g = generator().setAudioCol("path").setKeyCol("path").setMaxTokens(1);
        long[] byBytes = partitionCosts(g.transform(in));
        Dataset<Row> balanced = generator().setAudioCol("path").setKeyCol("path").setMaxTokens(1)
                .setBalance("tokens").setBalancePartitions(4).transform(in);
        assertThat(balanced.columns()).containsExactly("path", "duration_s", "prompt", "generation");
        long[] byTokens = partitionCosts(balanced);
        System.out.printf("Qwen2AudioSparkTest: partition costs byte-packed %s max/mean %.2f; balanced %s max/mean %.2f%n",
                java.util.Arrays.toString(byBytes), maxOverMean(byBytes), java.util.Arrays.toString(byTokens),
                maxOverMean(byTokens));
        assertThat(java.util.Arrays.stream(byTokens).sum()).as("every row ran").isEqualTo(java.util.Arrays.stream(byBytes).sum());
        assertThat(maxOverMean(byBytes)).as("the set is skewed for byte packing").isGreaterThan(1.5);
        assertThat(maxOverMean(byTokens)).as("balanced max partition cost over the mean").isLessThan(1.15);

        String thirty = media.resolve("thirty.wav").toString();
        Files.write(Path.of(thirty), pcm16Wav(clip(30 * 8000, 7), 8000));
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
                .add("clips", DataTypes.createArrayType(DataTypes.StringType))
                .add("seconds", DataTypes.createArrayType(DataTypes.DoubleType));
        Dataset<Row> arrays = spark.createDataFrame(List.of(
                RowFactory.create("two", PROMPT, List.of(thirty, thirty), List.of(30.0, 30.0)),
                RowFactory.create("seven", PROMPT, java.util.Collections.nCopies(7, thirty),
                        java.util.Collections.nCopies(7, 30.0))), schema);
        List<Row> out = generator().setAudioCol("clips").setKeyCol("id").setDurationCol("seconds").setMaxTokens(1)
                .setBalance("tokens").setBalancePartitions(2).transform(arrays)
                .select("id", "generation.text", "generation.error", "generation.prompt_tokens").orderBy("id").collectAsList();
        assertThat(out).extracting(r -> r.getString(0)).containsExactly("seven", "two");
        assertThat(out.get(0).getString(2)).startsWith("row seven: needs ").contains("not sent to the engine")
                .contains("context of 4096 tokens");
        assertThat(out.get(1).getString(2)).as("the two-clip row's error").isNull();
        assertThat(out.get(1).getInt(3)).as("two 30 s clips: 2 x 750 audio tokens in the prompt").isGreaterThan(1500);
    }

    /** Sum over each output partition of the engine's prompt_tokens + maxTokens of its rows that ran. */
    private static long[] partitionCosts(Dataset<Row> out) {
        List<Row> rows = out.select(org.apache.spark.sql.functions.spark_partition_id().as("p"),
                col("generation.prompt_tokens"), col("generation.error")).collectAsList();
        long[] cost = new long[out.rdd().getNumPartitions()];
        for (Row r : rows) {
            assertThat(r.isNullAt(2)).as("error: %s", r.get(2)).isTrue();
            cost[r.getInt(0)] += r.getInt(1) + 1;
        }
        return cost;
    }

    private static double maxOverMean(long[] costs) {
        return java.util.Arrays.stream(costs).max().orElseThrow() / java.util.Arrays.stream(costs).average().orElseThrow();
    }

    /** 16-bit PCM mono. */
    static byte[] pcm16Wav(float[] samples, int rate) {
        ByteBuffer b = ByteBuffer.allocate(44 + 2 * samples.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + 2 * samples.length)
                .put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) 1)
                .putInt(rate).putInt(2 * rate).putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(2 * samples.length);
        for (float s : samples) {
            b.putShort((short) Math.round(s * 32767));
        }
        return b.array();
    }
}
