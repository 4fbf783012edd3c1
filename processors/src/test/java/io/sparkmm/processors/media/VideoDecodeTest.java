package io.sparkmm.processors.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VideoDecodeTest extends MediaFixtures {

    private static final MediaLimits L = MediaLimits.defaults();

    /** Mean gray level of a frame: the frame counter the script drew (level = step * index). */
    static double meanLevel(RgbImage f) {
        long sum = 0;
        for (byte b : f.rgb()) {
            sum += b & 255;
        }
        return sum / (double) f.rgb().length;
    }

    static void assertCounter(VideoClip v, int levelPerFrame) {
        int[] idx = v.frameIndices();
        for (int i = 0; i < idx.length; i++) {
            assertThat(meanLevel(v.frames().get(i))).as("frame %d (index %d)", i, idx[i])
                    .isCloseTo(levelPerFrame * idx[i], within(3.0));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"counter.mp4", "counter.webm", "counter_vp8.mkv", "counter.avi"})
    void uniformSamplingPicksLinspaceIndices(String file) {
        VideoClip v = MediaIO.readVideo(src(good(file)), VideoSampling.uniform(4), L);
        // np.linspace(0, 29, 4, dtype=int) = [0, 9, 19, 29]
        assertThat(v.frameIndices()).containsExactly(0, 9, 19, 29);
        assertThat(v.numFrames()).isEqualTo(4);
        assertThat(v.fps()).isCloseTo(10.0, within(1e-6));
        assertThat(v.durationSeconds()).isCloseTo(3.0, within(0.1));
        assertThat(v.frames().get(0).width()).isEqualTo(64);
        assertThat(v.frames().get(0).height()).isEqualTo(48);
        assertCounter(v, 8);
    }

    @Test
    void moreFramesThanTheVideoHasReadsThemAll() {
        VideoClip v = MediaIO.readVideo(src(good("counter.webm")), VideoSampling.uniform(), L);
        assertThat(v.numFrames()).isEqualTo(30);
        assertThat(v.frameIndices()[29]).isEqualTo(29);
        assertCounter(v, 8);
    }

    @Test
    void fpsSamplingTakesEveryNthFrame() {
        VideoClip v = MediaIO.readVideo(src(good("counter.mp4")), VideoSampling.atFps(2), L);
        assertThat(v.frameIndices()).containsExactly(0, 5, 10, 15, 20, 25);
        assertCounter(v, 8);
        VideoClip v30 = MediaIO.readVideo(src(good("counter30fps.mp4")), VideoSampling.atFps(2), L);
        assertThat(v30.fps()).isCloseTo(30.0, within(1e-6));
        assertThat(v30.frameIndices()).containsExactly(0, 15, 30, 45);
        assertCounter(v30, 4);
        VideoClip capped = MediaIO.readVideo(src(good("counter_vp8.mkv")),
                VideoSampling.atFps(10), L.withMaxFrames(3));
        assertThat(capped.frameIndices()).containsExactly(0, 1, 2);
    }

    @Test
    void tooManyRequestedFramesIsRefused() {
        assertThatThrownBy(() -> MediaIO.readVideo(src(good("counter.mp4")), VideoSampling.uniform(8),
                L.withMaxFrames(4)))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining("counter.mp4").hasMessageContaining("maxFrames=4");
    }

    @Test
    void oversizedFramesAreRefused() {
        assertThatThrownBy(() -> MediaIO.readVideo(src(good("counter.mp4")), VideoSampling.uniform(2),
                L.withMaxPixels(64 * 48 - 1)))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining("counter.mp4").hasMessageContaining("64x48");
    }

    @Test
    void bytesAndPathAgree() throws Exception {
        byte[] data = Files.readAllBytes(good("counter.mp4"));
        assertThat(MediaIO.readVideo(MediaSource.ofBytes("vid", data), VideoSampling.uniform(4), L))
                .isEqualTo(MediaIO.readVideo(src(good("counter.mp4")), VideoSampling.uniform(4), L));
    }

    @Test
    void frameIndicesMatchNumpyLinspace() {
        assertThat(FrameIndices.uniform(30, 4)).containsExactly(0, 9, 19, 29);
        assertThat(FrameIndices.uniform(30, 1)).containsExactly(0);
        assertThat(FrameIndices.uniform(30, 2)).containsExactly(0, 29);
        assertThat(FrameIndices.uniform(3, 5)).containsExactly(0, 1, 2);
        // np.linspace(0, 99, 8, dtype=int) -> [0 14 28 42 56 70 84 99]
        assertThat(FrameIndices.uniform(100, 8)).containsExactly(0, 14, 28, 42, 56, 70, 84, 99);
        // np.linspace(0, 9, 4, dtype=int): 3.0 and 6.0 exactly -> [0 3 6 9]
        assertThat(FrameIndices.uniform(10, 4)).containsExactly(0, 3, 6, 9);
        // Python round: 25/10 = 2.5 -> 2 (half to even); 35/10 = 3.5 -> 4
        assertThat(FrameIndices.atFps(10, 25, 10, 100)).containsExactly(0, 2, 4, 6, 8);
        assertThat(FrameIndices.atFps(10, 35, 10, 100)).containsExactly(0, 4, 8);
        assertThat(FrameIndices.atFps(10, 10, 30, 100)).hasSize(10);   // faster than the video: every frame
    }
}
