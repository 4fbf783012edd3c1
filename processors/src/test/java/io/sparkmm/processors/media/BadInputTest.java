package io.sparkmm.processors.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every bad item is a MediaException naming the item: never a crash, a hang or garbage output. */
class BadInputTest extends MediaFixtures {

    private static final MediaLimits L = MediaLimits.defaults();

    static Object read(String kind, MediaSource s, MediaLimits limits) {
        return switch (kind) {
            case "image" -> MediaIO.readImage(s, limits);
            case "audio" -> MediaIO.readAudio(s, 16000, limits);
            case "video" -> MediaIO.readVideo(s, VideoSampling.uniform(4), limits);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    @ParameterizedTest(name = "{0} as {1}")
    @CsvSource({
        "zero.jpg, image, empty",
        "zero.wav, audio, empty",
        "zero.mp4, video, empty",
        "random.jpg, image, not a decodable image",
        "random.wav, audio, cannot open",
        "random.mp4, video, cannot open",
        "text.png, image, not a decodable image",
        "truncated.jpg, image, truncated JPEG",
        "truncated.mp4, video, cannot open",
        "corrupt_header.wav, audio, cannot open",
        "bomb_30000.png, image, maxPixels",
        // the wrong kind of media is refused too
        "text.png, audio, cannot open",
        "text.png, video, cannot open",
    })
    void badFileFailsNamingTheFile(String file, String kind, String cause) throws Exception {
        String path = bad(file).toString();
        assertThatThrownBy(() -> read(kind, MediaSource.ofPath(path), L))
                .isInstanceOf(MediaException.class)
                .hasMessageStartingWith(path + ": ")
                .hasMessageContaining(cause)
                .satisfies(e -> assertThat(((MediaException) e).item()).isEqualTo(path));
        byte[] data = Files.readAllBytes(bad(file));
        assertThatThrownBy(() -> read(kind, MediaSource.ofBytes("row-" + file, data), L))
                .isInstanceOf(MediaException.class)
                .hasMessageStartingWith("row-" + file + ": ");
    }

    @Test
    void imageAsAudioAndAudioAsVideoFail() {
        assertThatThrownBy(() -> read("audio", src(good("solid_512.png")), L))
                .isInstanceOf(MediaException.class).hasMessageContaining("solid_512.png");
        assertThatThrownBy(() -> read("video", src(good("sine440.m4a")), L))
                .isInstanceOf(MediaException.class).hasMessageContaining("sine440.m4a")
                .hasMessageContaining("no video stream");
        assertThatThrownBy(() -> read("image", src(good("counter.mp4")), L))
                .isInstanceOf(MediaException.class).hasMessageContaining("counter.mp4");
    }

    @ParameterizedTest
    @CsvSource({"solid_512.jpg, image", "sine440_stereo_44k.wav, audio", "counter.avi, video"})
    void overLimitFileIsRefusedBeforeReading(String file, String kind) throws Exception {
        long size = Files.size(good(file));
        MediaLimits small = L.withMaxFileBytes(size - 1);
        assertThatThrownBy(() -> read(kind, src(good(file)), small))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining(file)
                .hasMessageContaining(size + " bytes")
                .hasMessageContaining("maxFileBytes=" + (size - 1));
        byte[] data = Files.readAllBytes(good(file));
        assertThatThrownBy(() -> read(kind, MediaSource.ofBytes("in-memory " + file, data), small))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining("in-memory " + file)
                .hasMessageContaining("maxFileBytes");
    }

    @ParameterizedTest
    @CsvSource({"image", "audio", "video"})
    void missingPathIsNamed(String kind) {
        String missing = ROOT.resolve("no/such/file.bin").toString();
        assertThatThrownBy(() -> read(kind, MediaSource.ofPath(missing), L))
                .isInstanceOf(MediaException.class)
                .hasMessage(missing + ": no such file");
        assertThatThrownBy(() -> read(kind, MediaSource.ofPath("file://" + missing), L))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining("no such file");
    }

    @Test
    void directoryIsNotAMediaFile() {
        assertThatThrownBy(() -> read("image", MediaSource.ofPath(ROOT.toString()), L))
                .isInstanceOf(MediaException.class).hasMessageContaining(ROOT.toString());
        assertThatThrownBy(() -> read("video", MediaSource.ofPath(ROOT.toString()), L))
                .isInstanceOf(MediaException.class).hasMessageContaining(ROOT.toString());
    }

    @Test
    void remoteSchemesNeedHadoop() {
        assertThatThrownBy(() -> read("image", MediaSource.ofPath("hdfs://nn:8020/data/a.jpg"), L))
                .isInstanceOf(MediaException.class)
                .hasMessageStartingWith("hdfs://nn:8020/data/a.jpg: ")
                .hasMessageContaining("'hdfs'")
                .hasMessageContaining("Hadoop");
        assertThatThrownBy(() -> read("video", MediaSource.ofPath("s3a://bucket/v.mp4"), L))
                .isInstanceOf(MediaException.class).hasMessageContaining("Hadoop");
    }
}
