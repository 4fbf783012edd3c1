package io.sparkmm.processors.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SmartResizeTest {

    private static final Path FIXTURE = Path.of("src/test/resources/qwen2vl/qwen2vl_fixtures.json");

    /** Every (size, factor, min, max) case HF's smart_resize was run on: same size, or the same error. */
    @Test
    void matchesHfSweepExactly() throws Exception {
        JsonNode cases = new ObjectMapper().readTree(FIXTURE.toFile()).get("smart_resize");
        assertThat(cases).hasSizeGreaterThanOrEqualTo(100);
        int errors = 0;
        for (JsonNode c : cases) {
            int h = c.get("height").asInt();
            int w = c.get("width").asInt();
            int factor = c.get("factor").asInt();
            long lo = c.get("min_pixels").asLong();
            long hi = c.get("max_pixels").asLong();
            if (c.has("error")) {
                errors++;
                String want = c.get("error").asText();
                String prefix = want.substring(0, want.indexOf("got ") + 4);
                double ratio = Double.parseDouble(want.substring(prefix.length()));
                assertThatThrownBy(() -> SmartResize.resize(h, w, factor, lo, hi)).as(c.toString())
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage(prefix + ratio);
            } else {
                assertThat(SmartResize.resize(h, w, factor, lo, hi)).as(c.toString())
                        .containsExactly(c.get("resized").get(0).asInt(), c.get("resized").get(1).asInt());
            }
        }
        assertThat(errors).as("aspect-ratio error cases").isGreaterThan(0);
    }

    /** Python's round() is half-even: 42/28 = 1.5 -> 2, 70/28 = 2.5 -> 2, 98/28 = 3.5 -> 4. */
    @Test
    void roundsHalfToEven() {
        assertThat(SmartResize.resize(42, 70, 28, 1, 1 << 30)).containsExactly(56, 56);
        assertThat(SmartResize.resize(98, 98, 28, 1, 1 << 30)).containsExactly(112, 112);
    }

    @Test
    void clampsIntoPixelRange() {
        int[] big = SmartResize.resize(3000, 4000, 28, 3136, 28 * 28 * 1280);
        assertThat((long) big[0] * big[1]).isLessThanOrEqualTo(28 * 28 * 1280);
        int[] small = SmartResize.resize(10, 10, 28, 3136, 28 * 28 * 1280);
        assertThat(small).containsExactly(56, 56);
    }

    @Test
    void rejectsBadInputs() {
        assertThatThrownBy(() -> SmartResize.resize(1, 201, 28, 3136, 1003520))
                .hasMessage("absolute aspect ratio must be smaller than 200, got 201.0");
        assertThatThrownBy(() -> SmartResize.resize(0, 5, 28, 3136, 1003520)).hasMessageContaining("positive");
        assertThatThrownBy(() -> SmartResize.resize(5, 5, 0, 3136, 1003520)).hasMessageContaining("factor");
    }
}
