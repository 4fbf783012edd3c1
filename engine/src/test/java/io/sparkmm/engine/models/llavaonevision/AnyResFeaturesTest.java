package io.sparkmm.engine.models.llavaonevision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Against transformers' LlavaOnevisionModel.pack_image_features (src/test/python/llava_onevision_pack_fixtures.py):
 * row counts exact, values within 1e-5, for single images (with and without the anyres_max downscale)
 * and images of multi-image prompts.
 */
class AnyResFeaturesTest {

    private static final Path FIXTURES = Path.of("src/test/resources/llava_onevision/pack_fixtures.json");

    /** The fixture script's FEATURE formula: ((131 p + 37 t + 11 c + p t) mod 97) / 48 - 1. */
    private static float[] features(int patches, int tokens, int dim) {
        float[] f = new float[patches * tokens * dim];
        for (int p = 0; p < patches; p++) {
            for (int t = 0; t < tokens; t++) {
                for (int c = 0; c < dim; c++) {
                    f[(p * tokens + t) * dim + c] = (float) (((131 * p + 37 * t + 11 * c + p * t) % 97) / 48.0 - 1.0);
                }
            }
        }
        return f;
    }

    @Test
    void packsLikeTransformers() throws Exception {
        JsonNode fx = new ObjectMapper().readTree(FIXTURES.toFile());
        int dim = fx.get("dim").asInt();
        float[] newline = new float[dim];
        for (int k = 0; k < dim; k++) {
            newline[k] = (float) fx.get("newline").get(k).asDouble();
        }
        assertThat(fx.get("cases")).hasSizeGreaterThanOrEqualTo(40);
        for (JsonNode c : fx.get("cases")) {
            JsonNode s = fx.get("settings").get(c.get("setting").asText());
            int[][] pins = new int[s.get("pinpoints").size()][];
            for (int i = 0; i < pins.length; i++) {
                pins[i] = new int[] {s.get("pinpoints").get(i).get(0).asInt(), s.get("pinpoints").get(i).get(1).asInt()};
            }
            int side = s.get("image_size").asInt() / s.get("patch_size").asInt();
            int maxN = Integer.parseInt(s.get("aspect").asText().substring("anyres_max_".length()));
            AnyResFeatures packer = new AnyResFeatures(pins, s.get("image_size").asInt(), s.get("patch_size").asInt(), maxN);
            int h = c.get("height").asInt();
            int w = c.get("width").asInt();
            int patches = c.get("patches").asInt();
            String what = c.get("setting").asText() + " " + w + "x" + h + " patches " + patches;
            float[] out = packer.pack(features(patches, side * side, dim), patches, dim, h, w, newline);
            JsonNode expected = c.get("packed");
            assertThat(out.length / dim).as(what + " rows").isEqualTo(expected.size());
            if (patches > 1) {
                assertThat(packer.rows(h, w)).as(what).isEqualTo(expected.size());
            }
            for (int r = 0; r < expected.size(); r++) {
                for (int k = 0; k < dim; k++) {
                    assertThat((double) out[r * dim + k]).as("%s row %d col %d", what, r, k)
                            .isCloseTo(expected.get(r).get(k).asDouble(), within(1e-5));
                }
            }
        }
    }

    /**
     * 336 x 336 on 56 px tiles: a 6 x 6 tile grid is 24 x 24 features, past anyres_max_9 (12 x 12 x 1.1^2),
     * so it is shrunk to 12 x 12; HF's count for it (processor fixtures) is 16 + 12 x 13 = 172.
     */
    @Test
    void shrinksLargeGridsAndChecksThePatchCount() {
        int[][] pins = new int[36][];
        for (int i = 0; i < 36; i++) {
            pins[i] = new int[] {56 * (i / 6 + 1), 56 * (i % 6 + 1)};
        }
        AnyResFeatures packer = new AnyResFeatures(pins, 56, 14, 9);
        assertThat(packer.rows(336, 336)).isEqualTo(172);
        assertThatThrownBy(() -> packer.pack(features(5, 16, 2), 5, 2, 336, 336, new float[2]))
                .hasMessageContaining("has 37 patches");
        assertThatThrownBy(() -> packer.pack(features(2, 16, 2), 2, 2, 336, 336, new float[3]))
                .hasMessageContaining("newline of 2");
    }
}
