package io.sparkmm.processors.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.processors.media.RgbImage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Against HF's LlavaOnevisionImageProcessorPil and LlavaOnevisionProcessor (fixtures written by
 * src/test/python/record_llava_onevision_fixtures.py): pinpoints, shapes and token counts exact, pixel
 * values within 1e-5.
 */
class LlavaOnevisionImageProcessorTest {

    private static final Path FIXTURES = Path.of("src/test/resources/llava_onevision");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The fixture script's test_image: integer gradients in R and G, an xor texture in B. */
    static RgbImage testImage(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = (y * w + x) * 3;
                rgb[p] = (byte) (x * 255 / Math.max(w - 1, 1));
                rgb[p + 1] = (byte) (y * 255 / Math.max(h - 1, 1));
                rgb[p + 2] = (byte) (((x * 31 + y * 17) ^ (x * y)) & 255);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static JsonNode fixtures() throws Exception {
        return JSON.readTree(FIXTURES.resolve("llava_onevision_fixtures.json").toFile());
    }

    private static LlavaOnevisionImageProcessorConfig imageConfig(String name) {
        return LlavaOnevisionImageProcessorConfig.load(FIXTURES.resolve(name + "_preprocessor_config.json"));
    }

    private static LlavaOnevisionTokenCount tokenCount(String name) {
        return LlavaOnevisionTokenCount.load(FIXTURES.resolve(name + "_preprocessor_config.json"),
                FIXTURES.resolve(name + "_processor_config.json"));
    }

    @Test
    void singleImagesMatchHf() throws Exception {
        JsonNode cases = fixtures().get("cases");
        assertThat(cases).hasSizeGreaterThanOrEqualTo(30);
        for (JsonNode c : cases) {
            String name = c.get("config").asText();
            int w = c.get("width").asInt();
            int h = c.get("height").asInt();
            String what = name + " " + w + "x" + h;
            LlavaOnevisionImageProcessor p = new LlavaOnevisionImageProcessor(imageConfig(name));
            assertThat(p.bestResolution(h, w)).as(what)
                    .containsExactly(c.get("best_resolution").get(0).asInt(), c.get("best_resolution").get(1).asInt());
            LlavaOnevisionPixels out = p.process(testImage(w, h));
            JsonNode shape = c.get("shape");
            assertThat(new int[] {out.numPatches(), 3, out.height(), out.width()}).as(what).containsExactly(
                    shape.get(0).asInt(), shape.get(1).asInt(), shape.get(2).asInt(), shape.get(3).asInt());
            assertThat(p.numPatches(h, w)).as(what).isEqualTo(out.numPatches());
            assertThat(new int[] {out.imageHeight(), out.imageWidth()}).as(what)
                    .containsExactly(c.get("image_sizes").get(0).asInt(), c.get("image_sizes").get(1).asInt());
            assertPixels(what, out, c);
            LlavaOnevisionTokenCount count = tokenCount(name);
            assertThat(count.imageTokens(h, w)).as(what + " tokens").isEqualTo(c.get("image_tokens").asInt())
                    .isEqualTo(c.get("num_multimodal_tokens").asInt());
        }
    }

    @Test
    void imagesOfMultiImagePromptsMatchHf() throws Exception {
        JsonNode multi = fixtures().get("multi_image");
        assertThat(multi).hasSizeGreaterThanOrEqualTo(4);
        for (JsonNode c : multi) {
            String name = c.get("config").asText();
            LlavaOnevisionImageProcessor p = new LlavaOnevisionImageProcessor(imageConfig(name));
            for (int i = 0; i < 2; i++) {
                JsonNode size = c.get("sizes").get(i);
                String what = name + " multi " + size;
                LlavaOnevisionPixels out = p.processOfMany(testImage(size.get(0).asInt(), size.get(1).asInt()));
                JsonNode rec = c.get("images").get(i);
                JsonNode shape = rec.get("shape");
                assertThat(new int[] {out.numPatches(), 3, out.height(), out.width()}).as(what).containsExactly(
                        shape.get(0).asInt(), shape.get(1).asInt(), shape.get(2).asInt(), shape.get(3).asInt());
                assertPixels(what, out, rec);
            }
            assertThat(2 * tokenCount(name).multiImageTokens()).as(name).isEqualTo(c.get("image_tokens").asInt());
        }
    }

    /** The released checkpoints' settings (384 px, the 36 default pinpoints, 729 tokens, anyres_max_9). */
    @Test
    void realSettingsSweepMatchesHf() throws Exception {
        JsonNode real = fixtures().get("real");
        LlavaOnevisionImageProcessorConfig defaults = LlavaOnevisionImageProcessorConfig.fromJson(
                JSON.createObjectNode(), "{}");
        JsonNode hfPins = real.get("config").get("image_processor").get("image_grid_pinpoints");
        assertThat(defaults.pinpoints().length).isEqualTo(hfPins.size());
        for (int i = 0; i < hfPins.size(); i++) {
            assertThat(defaults.pinpoints()[i]).containsExactly(hfPins.get(i).get(0).asInt(), hfPins.get(i).get(1).asInt());
        }
        assertThat(new int[] {defaults.sizeHeight(), defaults.sizeWidth(), defaults.tileSize(), defaults.resample()})
                .containsExactly(384, 384, 384, 3);
        LlavaOnevisionTokenCount count = LlavaOnevisionTokenCount.of(defaults, real.get("config").get("processor"),
                "real");
        assertThat(count.patchSide()).isEqualTo(27);
        JsonNode sweep = real.get("sweep");
        assertThat(sweep).hasSizeGreaterThanOrEqualTo(200);
        for (JsonNode row : sweep) {
            int h = row.get(0).asInt();
            int w = row.get(1).asInt();
            assertThat(AnyResGrid.selectBestResolution(h, w, defaults.pinpoints())).as("%dx%d", w, h)
                    .containsExactly(row.get(2).asInt(), row.get(3).asInt());
            assertThat(count.imageTokens(h, w)).as("tokens %dx%d", w, h).isEqualTo(row.get(4).asInt());
        }
    }

    @Test
    void rejectsSettingsItCannotFollow() {
        ObjectMapper m = JSON;
        assertThatThrownBy(() -> LlavaOnevisionImageProcessorConfig.fromJson(
                m.readTree("{\"do_center_crop\": true}"), "cfg.json")).hasMessageContaining("do_center_crop");
        assertThatThrownBy(() -> LlavaOnevisionImageProcessorConfig.fromJson(
                m.readTree("{\"image_grid_pinpoints\": [[384]]}"), "cfg.json"))
                .hasMessageContaining("image_grid_pinpoints");
        LlavaOnevisionImageProcessorConfig dflt = LlavaOnevisionImageProcessorConfig.fromJson(m.createObjectNode(), "x");
        assertThatThrownBy(() -> LlavaOnevisionTokenCount.of(dflt,
                m.readTree("{\"num_image_tokens\": 729, \"vision_aspect_ratio\": \"anyres\"}"), "p.json"))
                .hasMessageContaining("vision_aspect_ratio");
        assertThatThrownBy(() -> LlavaOnevisionTokenCount.of(dflt, m.createObjectNode(), "p.json"))
                .hasMessageContaining("num_image_tokens");
    }

    private static void assertPixels(String what, LlavaOnevisionPixels out, JsonNode rec) {
        float[] pv = out.pixelValues();
        JsonNode idx = rec.get("indices");
        JsonNode val = rec.get("values");
        for (int i = 0; i < idx.size(); i++) {
            assertThat((double) pv[idx.get(i).asInt()]).as("%s index %d", what, idx.get(i).asInt())
                    .isCloseTo(val.get(i).asDouble(), within(1e-5));
        }
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : pv) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertThat((double) min).as(what + " min").isCloseTo(rec.get("min").asDouble(), within(1e-5));
        assertThat((double) max).as(what + " max").isCloseTo(rec.get("max").asDouble(), within(1e-5));
        int plane = 3 * out.height() * out.width();
        JsonNode sums = rec.get("patch_sums");
        assertThat(sums).hasSize(out.numPatches());
        for (int k = 0; k < out.numPatches(); k++) {
            double sum = 0;
            for (int j = k * plane; j < (k + 1) * plane; j++) {
                sum += pv[j];
            }
            // 1e-5 a value, summed: the per-value tolerance, not a looser one.
            assertThat(sum).as("%s patch %d sum", what, k).isCloseTo(sums.get(k).asDouble(), within(1e-5 * plane));
        }
    }
}
