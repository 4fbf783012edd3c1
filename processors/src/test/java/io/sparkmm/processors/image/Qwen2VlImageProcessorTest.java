package io.sparkmm.processors.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.processors.TestMedia;
import io.sparkmm.processors.media.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Qwen2VlImageProcessorTest {

    private static final Path FIXTURES = Path.of("src/test/resources/qwen2vl");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Against HF's Qwen2VLImageProcessorPil: sizes and grid exact, sampled values within 1e-5. */
    @Test
    void matchesHfFixtures() throws Exception {
        JsonNode manifest = JSON.readTree(FIXTURES.resolve("qwen2vl_fixtures.json").toFile());
        assertThat(manifest.get("cases")).hasSizeGreaterThanOrEqualTo(12);
        for (JsonNode c : manifest.get("cases")) {
            String what = c.get("config").asText() + " " + c.get("input").asText();
            Qwen2VlImageProcessor p = new Qwen2VlImageProcessor(
                    Qwen2VlImageProcessorConfig.load(FIXTURES.resolve(c.get("config").asText())));
            RgbImage in = TestMedia.readPng(FIXTURES.resolve(c.get("input").asText()));
            assertThat(p.resizedSize(in.width(), in.height())).as(what)
                    .containsExactly(c.get("resized").get(0).asInt(), c.get("resized").get(1).asInt());
            Qwen2VlPatches out = p.process(in);
            JsonNode grid = c.get("image_grid_thw");
            assertThat(out.gridThw()).as(what)
                    .containsExactly(grid.get(0).asLong(), grid.get(1).asLong(), grid.get(2).asLong());
            assertThat(p.gridThw(in.width(), in.height())).as(what)
                    .containsExactly(grid.get(0).asInt(), grid.get(1).asInt(), grid.get(2).asInt());
            assertThat(new int[] {out.numPatches(), p.patchDim()}).as(what)
                    .containsExactly(c.get("shape").get(0).asInt(), c.get("shape").get(1).asInt());
            float[] pv = out.pixelValues();
            assertThat(pv).hasSize(out.numPatches() * p.patchDim());
            JsonNode idx = c.get("indices");
            JsonNode val = c.get("values");
            for (int i = 0; i < idx.size(); i++) {
                assertThat((double) pv[idx.get(i).asInt()]).as("%s index %d", what, idx.get(i).asInt())
                        .isCloseTo(val.get(i).asDouble(), within(1e-5));
            }
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            double sum = 0;
            for (float v : pv) {
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
            }
            assertThat((double) min).as(what + " min").isCloseTo(c.get("min").asDouble(), within(1e-5));
            assertThat((double) max).as(what + " max").isCloseTo(c.get("max").asDouble(), within(1e-5));
            assertThat(sum).as(what + " sum").isCloseTo(c.get("sum").asDouble(), within(1e-5 * pv.length));
        }
    }

    @Test
    void processIntoConcatenatesImages() {
        Qwen2VlImageProcessor p = new Qwen2VlImageProcessor(new Qwen2VlImageProcessorConfig(
                4, 2, 2, 256, 2048, true, 3, true, 1 / 255.0, true,
                ClipImageProcessorConfig.OPENAI_CLIP_MEAN, ClipImageProcessorConfig.OPENAI_CLIP_STD));
        RgbImage a = TestMedia.syntheticImage(40, 30, 1);
        RgbImage b = TestMedia.syntheticImage(17, 33, 2);
        float[] pa = p.process(a).pixelValues();
        float[] pb = p.process(b).pixelValues();
        float[] both = new float[pa.length + pb.length];
        int n = p.processInto(a, both, 0);
        p.processInto(b, both, n);
        assertThat(n).isEqualTo(pa.length);
        assertThat(java.util.Arrays.copyOfRange(both, n, both.length)).containsExactly(pb);
        assertThatThrownBy(() -> p.processInto(a, new float[10], 0)).hasMessageContaining("needs " + pa.length);
    }

    @Test
    void withoutResizeTheSizeMustBeWholeMergeWindows() {
        Qwen2VlImageProcessor p = new Qwen2VlImageProcessor(new Qwen2VlImageProcessorConfig(
                4, 2, 2, 256, 2048, false, 3, true, 1 / 255.0, true,
                ClipImageProcessorConfig.OPENAI_CLIP_MEAN, ClipImageProcessorConfig.OPENAI_CLIP_STD));
        assertThat(p.process(TestMedia.syntheticImage(16, 8, 3)).gridThw()).containsExactly(1, 2, 4);
        assertThatThrownBy(() -> p.process(TestMedia.syntheticImage(12, 8, 3)))
                .hasMessageContaining("8x12").hasMessageContaining("patch_size * merge_size = 8");
    }

    @Test
    void parsesLegacyAndSizeForms() throws Exception {
        Qwen2VlImageProcessorConfig legacy = Qwen2VlImageProcessorConfig.load(
                FIXTURES.resolve("qwen2vl0_preprocessor_config.json"));
        assertThat(legacy.minPixels()).isEqualTo(256);
        assertThat(legacy.maxPixels()).isEqualTo(2048);
        assertThat(legacy.patchSize()).isEqualTo(4);
        assertThat(legacy.factor()).isEqualTo(8);
        assertThat(legacy.imageMean()).containsExactly(ClipImageProcessorConfig.OPENAI_CLIP_MEAN);
        Qwen2VlImageProcessorConfig sized = Qwen2VlImageProcessorConfig.load(
                FIXTURES.resolve("qwen2vl1_preprocessor_config.json"));
        assertThat(sized.minPixels()).isEqualTo(300);
        assertThat(sized.maxPixels()).isEqualTo(3000);
        assertThat(sized.temporalPatchSize()).isEqualTo(3);
        assertThat(sized.imageStd()).containsExactly(0.5, 0.5, 0.5);
    }

    /** Qwen/Qwen2-VL-7B-Instruct's file carries both forms; the legacy keys win, as in HF's constructor. */
    @Test
    void loadsQwen2VlInstructConfig(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("preprocessor_config.json");
        Files.writeString(file, """
                {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "temporal_patch_size": 2,
                 "merge_size": 2, "image_mean": [0.48145466, 0.4578275, 0.40821073],
                 "image_std": [0.26862954, 0.26130258, 0.27577711],
                 "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor",
                 "size": {"shortest_edge": 1000, "longest_edge": 2000}}""");
        Qwen2VlImageProcessorConfig c = Qwen2VlImageProcessorConfig.load(file);
        assertThat(c.minPixels()).isEqualTo(3136);
        assertThat(c.maxPixels()).isEqualTo(12845056);
        assertThat(c.resample()).isEqualTo(3);
        assertThat(c.rescaleFactor()).isEqualTo(1 / 255.0);
        Files.writeString(file, "{}");
        assertThat(Qwen2VlImageProcessorConfig.load(file))
                .usingRecursiveComparison().isEqualTo(Qwen2VlImageProcessorConfig.qwen2Vl());
        // 640x480 with HF's defaults: 644x476 -> grid 46x34 (Qwen2-VL's 391 tokens after 2x2 merge)
        assertThat(new Qwen2VlImageProcessor(Qwen2VlImageProcessorConfig.qwen2Vl()).gridThw(640, 480))
                .containsExactly(1, 34, 46);
    }

    @Test
    void badConfigsNameTheFileKeyAndValue(@TempDir Path dir) throws Exception {
        assertError(dir, "{\"resample\": 1}", "\"resample\"", "unsupported resample 1");
        assertError(dir, "{\"size\": {\"longest_edge\": 3000}}", "\"size\"", "shortest_edge");
        assertError(dir, "{\"size\": 224}", "\"size\"", "224");
        assertError(dir, "{\"size\": {\"shortest_edge\": -2, \"longest_edge\": 9}}", "\"size.shortest_edge\"", "-2");
        assertError(dir, "{\"min_pixels\": 0}", "\"min_pixels\"", "0");
        assertError(dir, "{\"max_pixels\": \"lots\"}", "\"max_pixels\"", "lots");
        assertError(dir, "{\"patch_size\": 0}", "\"patch_size\"", "0");
        assertError(dir, "{\"merge_size\": 1.5}", "\"merge_size\"", "1.5");
        assertError(dir, "{\"do_resize\": \"yes\"}", "\"do_resize\"", "yes");
        assertError(dir, "{\"image_mean\": [0.5, 0.5]}", "\"image_mean\"", "[0.5,0.5]");
        assertThatThrownBy(() -> Qwen2VlImageProcessorConfig.load(dir.resolve("missing.json")))
                .hasMessageContaining("missing.json");
        // a partial size dict completed by a legacy key is fine, as in HF
        Path ok = dir.resolve("ok.json");
        Files.writeString(ok, "{\"size\": {\"longest_edge\": 3000}, \"min_pixels\": 100}");
        assertThat(Qwen2VlImageProcessorConfig.load(ok).minPixels()).isEqualTo(100);
    }

    private static void assertError(Path dir, String json, String key, String value) throws Exception {
        Path file = dir.resolve("preprocessor_config.json");
        Files.writeString(file, json);
        assertThatThrownBy(() -> Qwen2VlImageProcessorConfig.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining(key)
                .hasMessageContaining(value);
    }
}
