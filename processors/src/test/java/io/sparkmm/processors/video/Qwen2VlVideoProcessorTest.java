package io.sparkmm.processors.video;

import io.sparkmm.processors.image.Qwen2VlPatches;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.processors.TestMedia;
import io.sparkmm.processors.image.ClipImageProcessorConfig;
import io.sparkmm.processors.media.RgbImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Against HF transformers 5.18's Qwen2VLVideoProcessor (fixtures from record_qwen2vl_video_fixtures.py). */
class Qwen2VlVideoProcessorTest {

    static final Path FIXTURES = Path.of("src/test/resources/qwen2vl");
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode manifest() throws Exception {
        return JSON.readTree(FIXTURES.resolve("qwen2vl_video_fixtures.json").toFile());
    }

    /** The case's processor: its config file plus the call kwargs HF got. */
    static Qwen2VlVideoProcessor processor(JsonNode c) {
        Qwen2VlVideoProcessor p = new Qwen2VlVideoProcessor(
                Qwen2VlVideoProcessorConfig.load(FIXTURES.resolve(c.get("config").asText())));
        JsonNode k = c.get("kwargs");
        return p.withOverrides(intOrNull(k, "min_pixels"), intOrNull(k, "max_pixels"),
                k.has("do_sample_frames") ? k.get("do_sample_frames").asBoolean() : null,
                k.has("fps") ? k.get("fps").asDouble() : null, intOrNull(k, "num_frames"),
                intOrNull(k, "min_frames"), intOrNull(k, "max_frames"));
    }

    static Integer intOrNull(JsonNode n, String key) {
        return n.has(key) ? n.get(key).asInt() : null;
    }

    /** The filmstrip PNG cut back into its frames. */
    static List<RgbImage> frames(JsonNode c) {
        RgbImage strip = TestMedia.readPng(FIXTURES.resolve(c.get("frames").asText()));
        int w = c.get("width").asInt();
        int h = c.get("height").asInt();
        assertThat(strip.height()).isEqualTo(h * c.get("num_frames").asInt());
        List<RgbImage> out = new ArrayList<>();
        for (int t = 0; t < c.get("num_frames").asInt(); t++) {
            byte[] rgb = new byte[3 * w * h];
            System.arraycopy(strip.rgb(), t * rgb.length, rgb, 0, rgb.length);
            out.add(new RgbImage(w, h, rgb));
        }
        return out;
    }

    static String sha256(float[] values) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }

    /** Runs sampling + processing for a fixture case the way HF did. */
    static Qwen2VlPatches run(JsonNode c, Qwen2VlVideoProcessor p, List<RgbImage> all) {
        int[] idx = selected(c, p, all.size());
        List<RgbImage> kept = new ArrayList<>();
        for (int i : idx) {
            kept.add(all.get(i));
        }
        return p.process(kept);
    }

    static int[] selected(JsonNode c, Qwen2VlVideoProcessor p, int n) {
        JsonNode meta = c.get("metadata");
        // HF samples array videos only with metadata; without, do_sample_frames would need a fps
        return meta.isNull() ? Qwen2VlFrameSampling.allFrames(n)
                : p.selectFrames(meta.get("total_num_frames").asInt(), meta.get("fps").asDouble());
    }

    /**
     * Bit-exact against HF's own rescale/normalize/pad/patchify on Pillow-resized frames, plus
     * sampled indices, resize size, grid, shape and second_per_grid_ts exactly.
     */
    @Test
    void matchesHfOnPillowResizedFramesBitForBit() throws Exception {
        JsonNode cases = manifest().get("cases");
        assertThat(cases).hasSizeGreaterThanOrEqualTo(8);
        for (JsonNode c : cases) {
            String what = c.get("name").asText();
            Qwen2VlVideoProcessor p = processor(c);
            List<RgbImage> all = frames(c);
            int[] idx = selected(c, p, all.size());
            int[] want = JSON.treeToValue(c.get("sampled_indices"), int[].class);
            assertThat(idx).as(what + " sampled indices").containsExactly(want);
            int w = c.get("width").asInt();
            int h = c.get("height").asInt();
            assertThat(p.resizedSize(idx.length, w, h)).as(what + " resized")
                    .containsExactly(c.get("resized").get(0).asInt(), c.get("resized").get(1).asInt());
            int[] grid = JSON.treeToValue(c.get("video_grid_thw"), int[].class);
            assertThat(p.gridThw(idx.length, w, h)).as(what + " grid").containsExactly(grid);
            Qwen2VlPatches out = run(c, p, all);
            assertThat(out.gridThw()).as(what).containsExactly(grid[0], grid[1], grid[2]);
            assertThat(new int[] {out.numPatches(), p.patchDim()}).as(what + " shape")
                    .containsExactly(c.get("shape").get(0).asInt(), c.get("shape").get(1).asInt());
            JsonNode pil = c.get("pil");
            float[] pv = out.pixelValues();
            for (int i = 0; i < pil.get("indices").size(); i++) {
                int at = pil.get("indices").get(i).asInt();
                assertThat(pv[at]).as("%s pil index %d", what, at).isEqualTo((float) pil.get("values").get(i).asDouble());
            }
            assertThat(sha256(pv)).as(what + " sha256 of float32 pixel_values_videos").isEqualTo(pil.get("sha256").asText());

            JsonNode meta = c.get("metadata");
            double sampledFps = Qwen2VlVideoProcessor.sampledFps(idx.length,
                    meta.isNull() ? all.size() : meta.get("total_num_frames").asInt(),
                    meta.isNull() ? Double.NaN : meta.get("fps").asDouble());
            assertThat(sampledFps).as(what + " sampled_fps").isEqualTo(c.get("sampled_fps").asDouble());
            assertThat(p.secondPerGridT(sampledFps)).as(what + " second_per_grid_ts")
                    .isEqualTo(c.get("second_per_grid_ts").asDouble());
        }
    }

    /**
     * Against HF end to end (torchvision bicubic antialias resize): within 2 byte levels of the resized
     * pixel, i.e. 2 / (255 * std) after normalization. Pillow (fixed-point weights, uint8 between the
     * horizontal and vertical passes) and torchvision (float accumulation, one final rounding) implement
     * the same Keys a=-0.5 filter with the same support, so only rounding differs; the recorder measured
     * the largest per-byte gap over all cases.
     */
    @Test
    void closeToHfTorchvisionOutput() throws Exception {
        for (JsonNode c : manifest().get("cases")) {
            String what = c.get("name").asText();
            assertThat(c.get("tv_vs_pil_max_byte_diff").asInt()).as(what + " recorded byte gap").isLessThanOrEqualTo(2);
            Qwen2VlVideoProcessor p = processor(c);
            double minStd = Math.min(Math.min(p.config().imageStd()[0], p.config().imageStd()[1]), p.config().imageStd()[2]);
            double tol = 2 / (255 * minStd) + 1e-6;
            float[] pv = run(c, p, frames(c)).pixelValues();
            JsonNode tv = c.get("tv");
            int differing = 0;
            for (int i = 0; i < tv.get("indices").size(); i++) {
                int at = tv.get("indices").get(i).asInt();
                double want = tv.get("values").get(i).asDouble();
                assertThat((double) pv[at]).as("%s tv index %d", what, at).isCloseTo(want, within(tol));
                differing += pv[at] == (float) want ? 0 : 1;
            }
            // Most resized bytes agree exactly; a systematic offset would show up here.
            assertThat(differing).as(what + " samples differing from torchvision").isLessThan(tv.get("indices").size() / 4);
        }
    }

    /** Hand-computed: raw bytes (no rescale/normalize), patch 1, merge 1, 3 frames padded to 4. */
    @Test
    void patchifyOrderAndLastFramePadding() {
        Qwen2VlVideoProcessor p = new Qwen2VlVideoProcessor(new Qwen2VlVideoProcessorConfig(1, 2, 1, 1, 100, false, 3,
                false, 1 / 255.0, false, new double[3], new double[] {1, 1, 1}, false, null, null, 4, 768, false, 1000));
        // frame t, pixel x, channel c holds 100 * t + 10 * x + c
        List<RgbImage> frames = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            byte[] rgb = new byte[6];
            for (int x = 0; x < 2; x++) {
                for (int ch = 0; ch < 3; ch++) {
                    rgb[3 * x + ch] = (byte) (100 * t + 10 * x + ch);
                }
            }
            frames.add(new RgbImage(2, 1, rgb));
        }
        Qwen2VlPatches out = p.process(frames);
        assertThat(out.gridThw()).containsExactly(2, 1, 2);
        // rows (t-step, x); columns (channel, frame within step); frame 3 repeats frame 2
        assertThat(out.pixelValues()).containsExactly(
                0, 100, 1, 101, 2, 102,
                10, 110, 11, 111, 12, 112,
                200, 200, 201, 201, 202, 202,
                210, 210, 211, 211, 212, 212);
    }

    /** Hand-computed cap: factor 28, 100 tokens -> int(100*784*0.9) = 70560; *2 // 16 frames = 8820. */
    @Test
    void pixelCapSharesTheVideoBudgetAcrossFrames() {
        Qwen2VlVideoProcessorConfig base = Qwen2VlVideoProcessorConfig.qwen2Vl();
        Qwen2VlVideoProcessor capped = new Qwen2VlVideoProcessor(new Qwen2VlVideoProcessorConfig(14, 2, 2, 3136,
                602112, true, 3, true, 1 / 255.0, true, base.imageMean(), base.imageStd(), false, null, null, 4, 768,
                true, 100));
        // smart_resize(480, 640, 28, 3136, 8820): beta = sqrt(307200/8820), floor(480/beta/28)*28 = 56, 84
        assertThat(capped.resizedSize(16, 640, 480)).containsExactly(56, 84);
        // one frame: 141120 > max_pixels? no, min(602112, 141120) = 141120 -> 308 x 420
        assertThat(capped.resizedSize(1, 640, 480)).containsExactly(308, 420);
        // 1000 frames: share 141 < int(3136 * 1.05) = 3292, so the floor 3292 applies: 28 x 56
        assertThat(capped.resizedSize(1000, 640, 480)).containsExactly(28, 56);
        assertThat(new Qwen2VlVideoProcessor(base).resizedSize(1000, 640, 480)).containsExactly(476, 644);
        assertThat(new Qwen2VlVideoProcessor(base).numTokens(5, 640, 480)).isEqualTo(3 * 17 * 23);
    }

    @Test
    void configReadsHfKeysAndDefaults() throws Exception {
        Qwen2VlVideoProcessorConfig empty = Qwen2VlVideoProcessorConfig.fromJson(JSON.readTree("{}"), "x.json");
        Qwen2VlVideoProcessorConfig d = Qwen2VlVideoProcessorConfig.qwen2Vl();
        // HF 5.18 class defaults: size {shortest_edge: 128*28*28, longest_edge: 28*28*768}
        assertThat(new int[] {empty.minPixels(), empty.maxPixels(), empty.patchSize(), empty.temporalPatchSize(),
                empty.mergeSize(), empty.minFrames(), empty.maxFrames(), empty.maxVideoTokens()})
                .containsExactly(100352, 602112, 14, 2, 2, 4, 768, 128000);
        assertThat(empty.doSampleFrames()).isFalse();
        assertThat(empty.fps()).isNull();
        assertThat(empty.capPixelsPerFrame()).isFalse();
        assertThat(empty.imageStd()).containsExactly(d.imageStd());
        Qwen2VlVideoProcessorConfig legacy = Qwen2VlVideoProcessorConfig.fromJson(JSON.readTree(
                "{\"size\": {\"shortest_edge\": 10, \"longest_edge\": 20}, \"max_pixels\": 12845056, \"fps\": 2}"),
                "x.json");
        assertThat(legacy.minPixels()).isEqualTo(10);
        assertThat(legacy.maxPixels()).isEqualTo(12845056);
        assertThat(legacy.fps()).isEqualTo(2.0);
        assertThatThrownBy(() -> Qwen2VlVideoProcessorConfig.fromJson(JSON.readTree("{\"fps\": -1}"), "v.json"))
                .hasMessageContaining("v.json").hasMessageContaining("\"fps\"");
        assertThatThrownBy(() -> Qwen2VlVideoProcessorConfig.fromJson(JSON.readTree("{\"max_frames\": 1.5}"), "v.json"))
                .hasMessageContaining("v.json: key \"max_frames\" must be an integer");
        assertThatThrownBy(() -> Qwen2VlVideoProcessorConfig.fromJson(
                JSON.readTree("{\"do_sample_frames\": true, \"fps\": 2, \"num_frames\": 8}"), "v.json"))
                .hasMessageContaining("v.json").hasMessageContaining("mutually exclusive");
        assertThatThrownBy(() -> Qwen2VlVideoProcessorConfig.fromJson(JSON.readTree("{\"size\": {\"shortest_edge\": 5}}"),
                "v.json")).hasMessageContaining("v.json: key \"size\" needs both");
    }

    @Test
    void overridesReplaceOnlyWhatIsGiven() {
        Qwen2VlVideoProcessor p = new Qwen2VlVideoProcessor(Qwen2VlVideoProcessorConfig.qwen2Vl());
        assertThat(p.withOverrides(null, null)).isSameAs(p);
        Qwen2VlVideoProcessor q = p.withOverrides(3136, 200704, true, 2.0, null, null, 16);
        assertThat(q.config().minPixels()).isEqualTo(3136);
        assertThat(q.config().maxPixels()).isEqualTo(200704);
        assertThat(q.config().fps()).isEqualTo(2.0);
        assertThat(q.config().maxFrames()).isEqualTo(16);
        assertThat(q.config().minFrames()).isEqualTo(4);
        assertThat(p.config().doSampleFrames()).isFalse();
        // 300 frames at 30 fps, 2 fps -> 20 wanted, bounded by max_frames 16
        assertThat(q.selectFrames(300, 30)).hasSize(16);
        assertThat(p.selectFrames(5, 30)).containsExactly(0, 1, 2, 3, 4);
        assertThatThrownBy(() -> q.withOverrides(null, null, null, null, 8, null, null))
                .hasMessageContaining("mutually exclusive");
    }

    @Test
    void rejectsZeroFrames() {
        Qwen2VlVideoProcessor p = new Qwen2VlVideoProcessor(Qwen2VlVideoProcessorConfig.qwen2Vl());
        assertThatThrownBy(() -> p.process(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one frame");
        assertThatThrownBy(() -> p.gridThw(0, 64, 64)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one frame");
    }

    @Test
    void rejectsFramesOfDifferentSizes() {
        Qwen2VlVideoProcessor p = new Qwen2VlVideoProcessor(Qwen2VlVideoProcessorConfig.qwen2Vl());
        List<RgbImage> frames = List.of(TestMedia.syntheticImage(64, 48, 1), TestMedia.syntheticImage(64, 48, 2),
                TestMedia.syntheticImage(48, 64, 3));
        assertThatThrownBy(() -> p.process(frames)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("frame 2 is 48x64 but frame 0 is 64x48");
    }

    @Test
    void rejectsFramesTooSmallForOnePatch() {
        Qwen2VlVideoProcessor noResize = new Qwen2VlVideoProcessor(new Qwen2VlVideoProcessorConfig(4, 2, 2, 64, 4096,
                false, 3, true, 1 / 255.0, true, ClipImageProcessorConfig.OPENAI_CLIP_MEAN,
                ClipImageProcessorConfig.OPENAI_CLIP_STD, false, null, null, 4, 768, false, 1000));
        assertThatThrownBy(() -> noResize.process(List.of(TestMedia.syntheticImage(6, 16, 1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("6x16 (width x height) is too small for one 8x8 merge window");
        assertThatThrownBy(() -> noResize.process(List.of(TestMedia.syntheticImage(12, 16, 1))))
                .hasMessageContaining("not a multiple of patch_size * merge_size = 8");
        Qwen2VlVideoProcessor p = new Qwen2VlVideoProcessor(Qwen2VlVideoProcessorConfig.qwen2Vl());
        assertThatThrownBy(() -> p.process(List.of(TestMedia.syntheticImage(201, 1, 1))))
                .hasMessageContaining("absolute aspect ratio must be smaller than 200");
    }

    @Test
    void secondPerGridTIsTemporalPatchOverSampledFps() {
        Qwen2VlVideoProcessor p = new Qwen2VlVideoProcessor(Qwen2VlVideoProcessorConfig.qwen2Vl());
        assertThat(p.secondPerGridT(2.0)).isEqualTo(1.0);
        assertThat(Qwen2VlVideoProcessor.sampledFps(6, 17, 30.0)).isEqualTo(6.0 / 17 * 30.0);
        assertThat(Qwen2VlVideoProcessor.sampledFps(6, 6, Double.NaN)).isEqualTo(24.0);
        assertThatThrownBy(() -> p.secondPerGridT(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
