package io.sparkmm.sparktests.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the multimodal source returns: schema, modality detection, probe values, filters, listing. */
class MultimodalSourceReadTest {

    @TempDir
    static Path root;
    static SparkSession spark;

    @BeforeAll
    static void setUp() throws IOException {
        TestMedia.image(root.resolve("img/a.png"), "png", 40, 30);
        TestMedia.image(root.resolve("img/b.jpg"), "jpg", 64, 48);
        TestMedia.image(root.resolve("img/sub/c.png"), "png", 20, 10);
        TestMedia.image(root.resolve("img/.hidden.png"), "png", 8, 8);
        TestMedia.image(root.resolve("img/_tmp.png"), "png", 8, 8);
        TestMedia.audio(root.resolve("audio/tone.wav"), 16000, 2, 1.0);
        TestMedia.video(root.resolve("video/clip.mp4"), 64, 48, 10, 2.0);
        // a PNG named .wav: the magic bytes say image
        Files.createDirectories(root.resolve("misc"));
        Files.copy(root.resolve("img/a.png"), root.resolve("misc/photo.wav"));
        // text named .png: unknown magic, the extension's guess stays, the probe fails for this row only
        Files.writeString(root.resolve("misc/noise.png"), "not an image at all");
        Files.writeString(root.resolve("misc/notes.txt"), "side file, never listed");
        spark = SparkTestSession.start("MultimodalSourceReadTest");
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) {
            spark.stop();
        }
    }

    private Dataset<Row> read(String path, String... options) {
        var reader = spark.read().format("multimodal");
        for (int i = 0; i < options.length; i += 2) {
            reader = reader.option(options[i], options[i + 1]);
        }
        return reader.load(path);
    }

    /** Rows keyed by file name. */
    private static Map<String, Row> byName(Dataset<Row> df) {
        Map<String, Row> out = new HashMap<>();
        for (Row r : df.collectAsList()) {
            String p = r.getAs("path");
            out.put(p.substring(p.lastIndexOf('/') + 1), r);
        }
        return out;
    }

    private static List<String> names(Dataset<Row> df) {
        return df.select("path").collectAsList().stream()
                .map(r -> r.getString(0).substring(r.getString(0).lastIndexOf('/') + 1))
                .sorted().collect(Collectors.toList());
    }

    @Test
    void schemaWithoutProbe() {
        StructType s = read(root.toString()).schema();
        assertThat(s.fieldNames()).containsExactly("path", "modality", "content", "length", "modificationTime",
                "read_error");
        assertThat(s.apply("content").dataType()).isEqualTo(DataTypes.BinaryType);
        assertThat(s.apply("length").dataType()).isEqualTo(DataTypes.LongType);
        assertThat(s.apply("modificationTime").dataType()).isEqualTo(DataTypes.TimestampType);
    }

    @Test
    void schemaWithProbe() {
        StructType s = read(root.toString(), "probe", "true").schema();
        assertThat(s.fieldNames()).containsExactly("path", "modality", "content", "length", "modificationTime",
                "read_error", "width", "height", "duration_s", "fps", "sample_rate", "channels", "probe_error");
        assertThat(Arrays.stream(s.fields()).skip(6).map(StructField::dataType)).containsExactly(
                DataTypes.IntegerType, DataTypes.IntegerType, DataTypes.DoubleType, DataTypes.DoubleType,
                DataTypes.IntegerType, DataTypes.IntegerType, DataTypes.StringType);
    }

    @Test
    void everyMediaFileOnceHiddenAndSideFilesSkipped() throws IOException {
        Map<String, Row> rows = byName(read(root.toString()));
        assertThat(rows.keySet()).containsExactlyInAnyOrder("a.png", "b.jpg", "c.png", "tone.wav", "clip.mp4",
                "photo.wav", "noise.png");
        Row a = rows.get("a.png");
        assertThat((byte[]) a.getAs("content")).isEqualTo(Files.readAllBytes(root.resolve("img/a.png")));
        assertThat((long) a.getAs("length")).isEqualTo(Files.size(root.resolve("img/a.png")));
        assertThat(((java.sql.Timestamp) a.getAs("modificationTime")).getTime())
                .isEqualTo(Files.getLastModifiedTime(root.resolve("img/a.png")).toMillis());
        assertThat((String) a.getAs("path")).startsWith("file:/").endsWith("/img/a.png");
        assertThat((String) a.getAs("read_error")).isNull();
    }

    @Test
    void modalityFromMagicBytesThenExtension() {
        Map<String, Row> rows = byName(read(root.toString()).select("path", "modality"));
        assertThat(rows.get("a.png").<String>getAs("modality")).isEqualTo("image");
        assertThat(rows.get("b.jpg").<String>getAs("modality")).isEqualTo("image");
        assertThat(rows.get("tone.wav").<String>getAs("modality")).isEqualTo("audio");
        assertThat(rows.get("clip.mp4").<String>getAs("modality")).isEqualTo("video");
        assertThat(rows.get("photo.wav").<String>getAs("modality")).as("magic wins").isEqualTo("image");
        assertThat(rows.get("noise.png").<String>getAs("modality")).as("unknown magic keeps the extension")
                .isEqualTo("image");
    }

    @Test
    void probeValues() {
        Map<String, Row> rows = byName(read(root.toString(), "probe", "true").drop("content"));
        Row png = rows.get("a.png");
        assertThat(png.<Integer>getAs("width")).isEqualTo(40);
        assertThat(png.<Integer>getAs("height")).isEqualTo(30);
        assertThat(png.<Object>getAs("duration_s")).isNull();
        assertThat(png.<String>getAs("probe_error")).isNull();
        assertThat(rows.get("b.jpg").<Integer>getAs("width")).isEqualTo(64);
        assertThat(rows.get("b.jpg").<Integer>getAs("height")).isEqualTo(48);
        assertThat(rows.get("photo.wav").<Integer>getAs("width")).isEqualTo(40);

        Row wav = rows.get("tone.wav");
        assertThat(wav.<Integer>getAs("sample_rate")).isEqualTo(16000);
        assertThat(wav.<Integer>getAs("channels")).isEqualTo(2);
        assertThat(wav.<Double>getAs("duration_s")).isCloseTo(1.0, within(0.05));
        assertThat(wav.<Object>getAs("width")).isNull();
        assertThat(wav.<Object>getAs("fps")).isNull();

        Row mp4 = rows.get("clip.mp4");
        assertThat(mp4.<Integer>getAs("width")).isEqualTo(64);
        assertThat(mp4.<Integer>getAs("height")).isEqualTo(48);
        assertThat(mp4.<Double>getAs("fps")).isCloseTo(10.0, within(0.01));
        assertThat(mp4.<Double>getAs("duration_s")).isCloseTo(2.0, within(0.15));
        assertThat(mp4.<Object>getAs("sample_rate")).as("no sound track").isNull();

        Row noise = rows.get("noise.png");
        assertThat(noise.<Object>getAs("width")).isNull();
        assertThat(noise.<String>getAs("probe_error")).contains("noise.png").contains("image");
    }

    @Test
    void modalityFilter() {
        assertThat(names(read(root.toString(), "modality", "audio,video")))
                .containsExactly("clip.mp4", "tone.wav");
        assertThat(names(read(root.toString(), "modality", "image")))
                .containsExactly("a.png", "b.jpg", "c.png", "noise.png", "photo.wav");
        assertThat(names(read(root.toString(), "modality", " Video "))).containsExactly("clip.mp4");
    }

    @Test
    void globsAndPathGlobFilter() {
        assertThat(names(read(root + "/img/*.png"))).as("glob matches skip hidden names").containsExactly("a.png");
        assertThat(names(read(root + "/{audio,video}"))).containsExactly("clip.mp4", "tone.wav");
        assertThat(names(read(root.toString(), "pathGlobFilter", "*.png")))
                .containsExactly("a.png", "c.png", "noise.png");
        assertThat(names(read(root.toString(), "pathGlobFilter", "*.{wav,mp4}")))
                .containsExactly("clip.mp4", "photo.wav", "tone.wav");
    }

    @Test
    void explicitFileIsReadAndSeveralPathsAtOnce() {
        assertThat(names(read(root + "/img/_tmp.png"))).containsExactly("_tmp.png");
        Dataset<Row> two = spark.read().format("multimodal").load(root + "/audio", root + "/video", root + "/audio");
        assertThat(names(two)).as("each file once").containsExactly("clip.mp4", "tone.wav");
    }

    @Test
    void recursiveLookupIsTheDefaultAndCanBeTurnedOff() {
        assertThat(names(read(root + "/img"))).containsExactly("a.png", "b.jpg", "c.png");
        assertThat(names(read(root + "/img", "recursiveFileLookup", "false"))).containsExactly("a.png", "b.jpg");
    }

    @Test
    void sniffUnknownExtensionsKeepsOnlyMedia(@TempDir Path dir) throws IOException {
        Files.copy(root.resolve("audio/tone.wav"), dir.resolve("recording.bin"));
        Files.writeString(dir.resolve("readme.bin"), "plain text");
        assertThat(names(read(dir.toString()))).isEmpty();
        Map<String, Row> rows = byName(read(dir.toString(), "sniffUnknownExtensions", "true").select("path", "modality"));
        assertThat(rows.keySet()).containsExactly("recording.bin");
        assertThat(rows.get("recording.bin").<String>getAs("modality")).isEqualTo("audio");
    }

    @Test
    void maxFileBytesKeepsTheRowWithAnError() throws IOException {
        long pngSize = Files.size(root.resolve("img/a.png"));
        Map<String, Row> rows = byName(read(root + "/img", "maxFileBytes", String.valueOf(pngSize)));
        assertThat(rows.get("a.png").<byte[]>getAs("content")).hasSize((int) pngSize);
        Row big = rows.get("b.jpg");
        assertThat(big.<byte[]>getAs("content")).isNull();
        assertThat(big.<String>getAs("read_error")).contains("b.jpg").contains("maxFileBytes=" + pngSize);
        assertThat(big.<Long>getAs("length")).isGreaterThan(pngSize);
    }
}
