package io.sparkmm.processors.video;

import io.sparkmm.processors.image.Qwen2VlPatches;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.processors.media.MediaException;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.VideoClip;
import io.sparkmm.processors.media.VideoSampling;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** HF 5.18's Qwen2VLVideoProcessor.sample_frames, and the decoder running it before decoding. */
class Qwen2VlFrameSamplingTest {

    private static final Qwen2VlVideoProcessorConfig D = Qwen2VlVideoProcessorConfig.qwen2Vl();

    static int[] sample(int total, double videoFps, JsonNode kw) {
        return Qwen2VlFrameSampling.sampleFrames(total, videoFps,
                kw.has("fps") ? kw.get("fps").asDouble() : null, Qwen2VlVideoProcessorTest.intOrNull(kw, "num_frames"),
                kw.has("temporal_patch_size") ? kw.get("temporal_patch_size").asInt() : D.temporalPatchSize(),
                kw.has("min_frames") ? kw.get("min_frames").asInt() : D.minFrames(),
                kw.has("max_frames") ? kw.get("max_frames").asInt() : D.maxFrames());
    }

    /** Every recorded call of HF's sample_frames: same indices, or an error where HF raised one. */
    @Test
    void matchesHfSampleFrames() throws Exception {
        JsonNode sweep = Qwen2VlVideoProcessorTest.manifest().get("sample_frames");
        assertThat(sweep).hasSizeGreaterThanOrEqualTo(20);
        int failing = 0;
        for (JsonNode c : sweep) {
            int total = c.get("total").asInt();
            String what = c.toString();
            if (c.has("error")) {
                assertThatThrownBy(() -> sample(total, c.get("video_fps").asDouble(), c.get("kwargs"))).as(what)
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("num_frames");
                continue;
            }
            int[] raw = Qwen2VlVideoProcessorTest.JSON.treeToValue(c.get("raw"), int[].class);
            int[] got = sample(total, c.get("video_fps").asDouble(), c.get("kwargs"));
            if (c.has("hf_fails")) {
                // torch.arange overshot by one index == total; HF then fails to index, we keep the rest
                failing++;
                assertThat(raw[raw.length - 1]).as(what).isEqualTo(total);
                assertThat(got).as(what).containsExactly(Arrays.copyOf(raw, raw.length - 1));
            } else {
                assertThat(got).as(what).containsExactly(raw);
            }
        }
        assertThat(failing).as("cases where HF's arange overshoots").isGreaterThanOrEqualTo(2);
    }

    /**
     * Hand-computed: Python's round is half to even, so num_frames 3 and 5 both give 2 * 2 = 4 frames
     * of 7 (step 1.75: 0, 1.75, 3.5, 5.25), and 7 gives round(3.5) * 2 = 8, more than the video has.
     */
    @Test
    void numFramesRoundsHalfToEven() {
        assertThat(Qwen2VlFrameSampling.sampleFrames(7, 10, null, 3, 2, 4, 768)).containsExactly(0, 1, 3, 5);
        assertThat(Qwen2VlFrameSampling.sampleFrames(7, 10, null, 5, 2, 4, 768)).containsExactly(0, 1, 3, 5);
        assertThatThrownBy(() -> Qwen2VlFrameSampling.sampleFrames(7, 10, null, 7, 2, 4, 768))
                .hasMessageContaining("num_frames=8");
    }

    @Test
    void refusesWhatHfCannotSample() {
        assertThatThrownBy(() -> Qwen2VlFrameSampling.sampleFrames(50, 30, null, null, 2, 4, 768))
                .hasMessageContaining("neither fps nor num_frames");
        assertThatThrownBy(() -> Qwen2VlFrameSampling.sampleFrames(1, 30, 2.0, null, 2, 4, 768))
                .hasMessageContaining("num_frames=0");
        assertThatThrownBy(() -> Qwen2VlFrameSampling.sampleFrames(6, 30, null, 8, 2, 4, 768))
                .hasMessageContaining("exceeds `total_num_frames=6`");
        assertThatThrownBy(() -> Qwen2VlFrameSampling.sampleFrames(0, 30, 2.0, null, 2, 4, 768))
                .hasMessageContaining("at least one frame");
    }

    /** The decoder asks the processor's rule once it knows nb_frames and the frame rate. */
    @Test
    void decoderPicksHfIndicesForTheMp4() throws Exception {
        JsonNode mp4 = Qwen2VlVideoProcessorTest.manifest().get("mp4");
        MediaSource src = MediaSource.ofPath(
                Qwen2VlVideoProcessorTest.FIXTURES.resolve(mp4.get("file").asText()).toAbsolutePath().toString());
        Qwen2VlVideoProcessor base = new Qwen2VlVideoProcessor(D);
        for (JsonNode c : mp4.get("cases")) {
            JsonNode kw = c.get("kwargs");
            Qwen2VlVideoProcessor p = base.withOverrides(null, null, true, kw.has("fps") ? kw.get("fps").asDouble() : null,
                    Qwen2VlVideoProcessorTest.intOrNull(kw, "num_frames"), null,
                    Qwen2VlVideoProcessorTest.intOrNull(kw, "max_frames"));
            VideoClip clip = MediaIO.readVideo(src, p.videoSampling(), MediaLimits.defaults());
            int[] want = Qwen2VlVideoProcessorTest.JSON.treeToValue(c.get("indices"), int[].class);
            assertThat(clip.frameIndices()).as(kw.toString()).containsExactly(want);
            assertThat(clip.totalFrames()).isEqualTo(mp4.get("total_frames").asInt());
            assertThat(clip.fps()).isEqualTo(mp4.get("fps").asDouble());
            assertThat(clip.sampledFps()).isEqualTo((double) want.length / clip.totalFrames() * clip.fps());
            assertThat(clip.frames()).allSatisfy(f -> assertThat(f.width()).isEqualTo(64));
            Qwen2VlPatches out = p.process(clip);
            assertThat(out.gridThw()).containsExactly(p.gridThw(want.length, 64, 48)[0], p.gridThw(want.length, 64, 48)[1],
                    p.gridThw(want.length, 64, 48)[2]);
        }
        // do_sample_frames off: every frame, sampled fps = native fps
        VideoClip all = MediaIO.readVideo(src, base.videoSampling(), MediaLimits.defaults());
        assertThat(all.frameIndices()).hasSize(mp4.get("total_frames").asInt());
        assertThat(base.secondPerGridT(all)).isEqualTo(2 / mp4.get("fps").asDouble());
        // a rule HF cannot apply becomes this item's MediaException; over the frame limit too
        Qwen2VlVideoProcessor tooMany = base.withOverrides(null, null, true, null, 40, null, null);
        assertThatThrownBy(() -> MediaIO.readVideo(src, tooMany.videoSampling(), MediaLimits.defaults()))
                .isInstanceOf(MediaException.class).hasMessageContaining("exceeds `total_num_frames=23`");
        assertThatThrownBy(() -> MediaIO.readVideo(src, base.videoSampling(), MediaLimits.defaults().withMaxFrames(8)))
                .isInstanceOf(MediaException.class).hasMessageContaining("over the limit maxFrames=8");
        assertThatThrownBy(() -> MediaIO.readVideo(src, VideoSampling.select((t, fps) -> new int[] {3, 3}),
                MediaLimits.defaults())).isInstanceOf(MediaException.class).hasMessageContaining("strictly ascending");
    }

    @Test
    void videoSamplingTakesExactlyOneMode() {
        assertThat(VideoSampling.select((t, f) -> new int[] {0}).isSelector()).isTrue();
        assertThat(VideoSampling.uniform(4).isSelector()).isFalse();
        assertThatThrownBy(() -> new VideoSampling(4, 0, (t, f) -> new int[] {0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one");
        assertThatThrownBy(() -> VideoSampling.select(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
