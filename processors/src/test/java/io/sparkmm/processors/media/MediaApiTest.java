package io.sparkmm.processors.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The value types and MediaSource, no native decoding. */
class MediaApiTest {

    @Test
    void recordsValidate() {
        assertThatThrownBy(() -> new RgbImage(2, 2, new byte[11])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("12");
        assertThatThrownBy(() -> new RgbImage(0, 2, new byte[0])).isInstanceOf(IllegalArgumentException.class);
        assertThat(new RgbImage(1, 1, new byte[] {1, 2, 3})).isEqualTo(new RgbImage(1, 1, new byte[] {1, 2, 3}));
        assertThat(new RgbImage(1, 1, new byte[] {1, 2, 3}).pixel(0, 0)).isEqualTo(0x010203);
        assertThatThrownBy(() -> new AudioClip(new float[1], 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new AudioClip(new float[8000], 16000).durationSeconds()).isEqualTo(0.5);
        assertThatThrownBy(() -> new VideoClip(List.of(), new int[1], 10, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void samplingAndLimitsValidate() {
        assertThat(VideoSampling.uniform().numFrames()).isEqualTo(32);
        assertThat(VideoSampling.atFps(2).fps()).isEqualTo(2.0);
        assertThatThrownBy(() -> new VideoSampling(4, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new VideoSampling(0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> VideoSampling.uniform(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> VideoSampling.atFps(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        MediaLimits d = MediaLimits.defaults();
        assertThat(d.maxFileBytes()).isEqualTo(512L * 1024 * 1024);
        assertThat(d.maxPixels()).isEqualTo(178_956_970L);
        assertThat(d.maxAudioSeconds()).isEqualTo(600.0);
        assertThat(d.maxFrames()).isEqualTo(1024);
        assertThatThrownBy(() -> new MediaLimits(0, 1, 1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> d.withMaxAudioSeconds(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> d.withMaxFrames(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sourcesReadPathsAndFileUris(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a b.bin");
        Files.write(f, new byte[] {1, 2, 3});
        MediaLimits l = MediaLimits.defaults();
        assertThat(MediaSource.ofPath(f.toString()).bytes(l)).containsExactly(1, 2, 3);
        assertThat(MediaSource.ofPath(f.toUri().toString()).bytes(l)).containsExactly(1, 2, 3);
        assertThat(MediaSource.ofPath("file:" + f).bytes(l)).containsExactly(1, 2, 3);   // Hadoop style, raw space
        assertThat(MediaSource.ofPath("file://" + f).bytes(l)).containsExactly(1, 2, 3);
        assertThat(MediaSource.ofPath(f.toString()).name()).isEqualTo(f.toString());
        assertThatThrownBy(() -> MediaSource.ofPath(f.toString()).bytes(l.withMaxFileBytes(2)))
                .isInstanceOf(MediaException.class).hasMessageContaining("3 bytes");
        MediaSource mem = MediaSource.ofBytes("k", new byte[] {9});
        assertThat(mem.name()).isEqualTo("k");
        assertThat(mem.bytes(l)).containsExactly(9);
        assertThatThrownBy(() -> MediaSource.ofPath(" ")).isInstanceOf(IllegalArgumentException.class);
    }
}
