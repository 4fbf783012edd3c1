package io.sparkmm.processors.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.processors.TestMedia;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.video.VideoFrameProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipImageProcessorTest {

    private static final Path FIXTURES = Path.of("src/test/resources/pil");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** pixel_values of the Python pipeline (Pillow resize, HF crop with padding, float32 math): bit-exact. */
    @Test
    void bitExactAgainstPythonPipelineFixtures() throws Exception {
        JsonNode manifest = JSON.readTree(FIXTURES.resolve("manifest.json").toFile());
        assertThat(manifest.get("clip")).hasSizeGreaterThanOrEqualTo(6);
        for (JsonNode c : manifest.get("clip")) {
            ClipImageProcessor p = new ClipImageProcessor(
                    ClipImageProcessorConfig.load(FIXTURES.resolve(c.get("config").asText())));
            RgbImage in = TestMedia.readPng(FIXTURES.resolve(c.get("input").asText()));
            float[] want = TestMedia.readFloats(FIXTURES.resolve(c.get("pixel_values").asText()));
            float[] got = p.process(in);
            int[] size = p.outputSize(in.width(), in.height());
            assertThat(new int[] {3, size[0], size[1]}).as(c.toString())
                    .containsExactly(c.get("shape").get(0).asInt(), c.get("shape").get(1).asInt(),
                            c.get("shape").get(2).asInt());
            assertThat(got).as("%s: %dx%d", c.get("config").asText(), in.width(), in.height()).containsExactly(want);
        }
    }

    @Test
    void loadsClipVitLargePatch14_336(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("preprocessor_config.json");
        Files.writeString(file, """
                {"crop_size": 336, "do_center_crop": true, "do_normalize": true, "do_resize": true,
                 "feature_extractor_type": "CLIPFeatureExtractor",
                 "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
                 "resample": 3, "size": 336}""");
        ClipImageProcessorConfig c = ClipImageProcessorConfig.load(file);
        assertThat(c.shortestEdge()).isEqualTo(336);
        assertThat(c.cropHeight()).isEqualTo(336);
        assertThat(c.cropWidth()).isEqualTo(336);
        assertThat(c.rescaleFactor()).isEqualTo(1 / 255.0);
        assertThat(c.doRescale()).isTrue();
        ClipImageProcessor p = new ClipImageProcessor(c);
        assertThat(p.outputHeight()).isEqualTo(336);
        assertThat(p.outputWidth()).isEqualTo(336);
        // HF's get_resize_output_image_size: int(336 * 517 / 333) = 521; 640x480 -> 448x336
        assertThat(p.resizedSize(333, 517)).containsExactly(521, 336);
        assertThat(p.resizedSize(640, 480)).containsExactly(336, 448);
        assertThat(p.resizedSize(100, 80)).containsExactly(336, 420);
    }

    @Test
    void badConfigsNameTheFileKeyAndValue(@TempDir Path dir) throws Exception {
        assertError(dir, "{\"resample\": 1}", "\"resample\"", "unsupported resample 1");
        assertError(dir, "{\"size\": {\"longest_edge\": 3}}", "\"size\"", "longest_edge");
        assertError(dir, "{\"crop_size\": \"big\"}", "\"crop_size\"", "big");
        assertError(dir, "{\"do_resize\": \"yes\"}", "\"do_resize\"", "yes");
        assertError(dir, "{\"image_mean\": [0.5, 0.5]}", "\"image_mean\"", "[0.5,0.5]");
        assertError(dir, "{\"size\": {\"shortest_edge\": -2}}", "\"size.shortest_edge\"", "-2");
        assertThatThrownBy(() -> ClipImageProcessorConfig.load(dir.resolve("missing.json")))
                .hasMessageContaining("missing.json");
    }

    private static void assertError(Path dir, String json, String key, String value) throws Exception {
        Path file = dir.resolve("preprocessor_config.json");
        Files.writeString(file, json);
        assertThatThrownBy(() -> ClipImageProcessorConfig.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining(key).hasMessageContaining(value);
    }

    @Test
    void cropOffsetsFollowTransformers() {
        assertThat(ClipImageProcessor.cropOffset(448, 336)).isEqualTo(56);
        assertThat(ClipImageProcessor.cropOffset(337, 336)).isZero(); // (337 - 336) // 2
        assertThat(ClipImageProcessor.cropOffset(335, 336)).isEqualTo(-1); // one zero row on top
        assertThat(ClipImageProcessor.cropOffset(10, 15)).isEqualTo(-3); // ceil(5 / 2) on top
    }

    @Test
    void threadSafeAndDeterministic() throws Exception {
        ClipImageProcessor p = new ClipImageProcessor(ClipImageProcessorConfig.clipVitLargePatch14_336());
        List<RgbImage> images = List.of(TestMedia.syntheticImage(512, 384, 1), TestMedia.syntheticImage(300, 700, 2),
                TestMedia.syntheticImage(90, 60, 3));
        List<float[]> serial = images.stream().map(p::process).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                RgbImage img = images.get(i % images.size());
                futures.add(pool.submit(() -> p.process(img)));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertThat(Arrays.equals(futures.get(i).get(), serial.get(i % images.size()))).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void videoFramesStackAlongTime() {
        ClipImageProcessor p = new ClipImageProcessor(ClipImageProcessorConfig.clipVitLargePatch14_336());
        List<RgbImage> frames = List.of(TestMedia.syntheticImage(640, 360, 5), TestMedia.syntheticImage(640, 360, 6),
                TestMedia.syntheticImage(640, 360, 7));
        float[] video = new VideoFrameProcessor(p).process(frames);
        int frameLen = 3 * 336 * 336;
        assertThat(video).hasSize(3 * frameLen);
        for (int t = 0; t < 3; t++) {
            // Arrays.equals: AssertJ's containsExactly is quadratic-ish on 338k elements
            assertThat(Arrays.equals(Arrays.copyOfRange(video, t * frameLen, (t + 1) * frameLen),
                    p.process(frames.get(t)))).as("frame %d", t).isTrue();
        }
        assertThatThrownBy(() -> new VideoFrameProcessor(p).process(List.of())).hasMessageContaining("at least one");
    }

    @Test
    void withoutCropTheOutputFollowsTheInput() {
        ClipImageProcessorConfig c = new ClipImageProcessorConfig(true, 24, 0, 0, 2, false, 0, 0, true, 1 / 255.0,
                true, ClipImageProcessorConfig.OPENAI_CLIP_MEAN, ClipImageProcessorConfig.OPENAI_CLIP_STD, true);
        ClipImageProcessor p = new ClipImageProcessor(c);
        assertThat(p.process(TestMedia.syntheticImage(60, 30, 9))).hasSize(3 * 24 * 48);
        assertThatThrownBy(p::outputHeight).isInstanceOf(IllegalStateException.class);
    }
}
