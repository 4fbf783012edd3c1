package io.sparkmm.engine.models.qwen2vl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.models.RequestPositions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link MropeIndex} against transformers' own get_rope_index (fixtures written by
 * src/test/python/mrope_fixtures.py), plus the error cases and the positions after the prompt.
 */
class MropeIndexTest {

    private static final int START = 151652;
    private static final int END = 151653;
    private static final int IMAGE = 151655;
    private static final int VIDEO = 151656;

    /**
     * transformers 4.57 (mrope_fixtures.json) continues text after an item at its largest position
     * + 1, as sparkmm and vLLM do, but casts Qwen2.5-VL's second_per_grid_t to an integer before
     * scaling (0.5 s per patch becomes 0); sparkmm and vLLM keep the fraction. So: equal wherever
     * every second_per_grid_t is whole, different wherever one is not.
     */
    @TestFactory
    List<DynamicTest> matchesTransformers4WhereSecondsPerPatchAreWhole() throws IOException {
        JsonNode doc = fixtures("mrope_fixtures.json", "4.");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            boolean whole = true;
            for (JsonNode s : c.get("second_per_grid_ts").isNull() ? List.<JsonNode>of() : iterable(c.get("second_per_grid_ts"))) {
                whole &= s.asDouble() == Math.rint(s.asDouble());
            }
            boolean expectSame = whole;
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                if (expectSame) {
                    checkCase(c);
                } else {
                    assertThat(matches(c, Integer.MAX_VALUE)).as("4.57 truncates second_per_grid_t").isFalse();
                }
            }));
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(10);
        return tests;
    }

    /**
     * transformers 5.18 (mrope_fixtures_tf5.json) keeps fractional seconds but continues text after
     * an item at start + max(h, w) / m: the same as ours except after a video whose temporal
     * positions outrun its spatial ones. So: every token up to the end of the first such video
     * equal, and the whole prompt equal exactly when there is none.
     */
    @TestFactory
    List<DynamicTest> agreesWithTransformers5UpToAVideoThatLeadsInTime() throws IOException {
        JsonNode doc = fixtures("mrope_fixtures_tf5.json", "5.");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                int leadingVideoEnd = leadingVideoEnd(c);
                assertThat(matches(c, leadingVideoEnd)).as("equal up to token %d", leadingVideoEnd).isTrue();
                assertThat(matches(c, Integer.MAX_VALUE)).as("equal everywhere iff no video leads in time")
                        .isEqualTo(leadingVideoEnd == Integer.MAX_VALUE);
            }));
        }
        return tests;
    }

    private static JsonNode fixtures(String file, String era) throws IOException {
        try (InputStream in = MropeIndexTest.class.getResourceAsStream("/qwen2vl/" + file)) {
            assertThat(in).as(file + " on the test class path").isNotNull();
            JsonNode doc = new ObjectMapper().readTree(in);
            assertThat(doc.get("transformers").asText()).startsWith(era);
            return doc;
        }
    }

    private static List<JsonNode> iterable(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    /**
     * The index just past the last pad token of the first video whose floor((t-1) * interval)
     * exceeds its spatial extent (max(h, w) / m - 1), or MAX_VALUE when no video does.
     */
    private static int leadingVideoEnd(JsonNode c) {
        int merge = c.get("spatial_merge_size").asInt();
        int[] ids = ints(c.get("input_ids"));
        JsonNode videos = c.get("video_grid_thw");
        int video = c.get("video_token_id").asInt();
        int v = -1;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == video && (i == 0 || ids[i - 1] != video)) {
                v++;
                JsonNode g = videos.get(v);
                float interval = 1f;
                if (c.get("family").asText().equals("qwen2_5_vl")) {
                    JsonNode s = c.get("second_per_grid_ts");
                    interval = c.get("tokens_per_second").asInt() * (s.isNull() ? 1f : (float) s.get(v).asDouble());
                }
                int spatial = Math.max(g.get(1).asInt(), g.get(2).asInt()) / merge;
                if ((int) ((g.get(0).asInt() - 1) * interval) > spatial - 1) {
                    int end = i;
                    while (end < ids.length && ids[end] == video) {
                        end++;
                    }
                    return end;
                }
            }
        }
        return Integer.MAX_VALUE;
    }

    /** Whether our positions equal the fixture's for tokens [0, upTo) (the delta too when upTo covers all). */
    private static boolean matches(JsonNode c, int upTo) {
        MropeIndex.Result r = compute(c);
        int n = Math.min(upTo, r.positions()[0].length);
        for (int s = 0; s < 3; s++) {
            int[] expected = ints(c.get("positions").get(s));
            for (int i = 0; i < n; i++) {
                if (expected[i] != r.positions()[s][i]) {
                    return false;
                }
            }
        }
        return upTo < r.positions()[0].length || r.delta() == c.get("delta").asInt();
    }

    private static MropeIndex.Result compute(JsonNode c) {
        int merge = c.get("spatial_merge_size").asInt();
        int image = c.get("image_token_id").asInt();
        int video = c.get("video_token_id").asInt();
        MropeIndex index = c.get("family").asText().equals("qwen2_vl")
                ? MropeIndex.qwen2Vl(image, video, merge)
                : MropeIndex.qwen25Vl(image, video, merge, c.get("tokens_per_second").asInt());
        float[] seconds = null;
        if (!c.get("second_per_grid_ts").isNull()) {
            JsonNode s = c.get("second_per_grid_ts");
            seconds = new float[s.size()];
            for (int k = 0; k < seconds.length; k++) {
                seconds[k] = (float) s.get(k).asDouble();
            }
        }
        return index.compute(ints(c.get("input_ids")), grids(c.get("image_grid_thw")), grids(c.get("video_grid_thw")), seconds);
    }

    private static void checkCase(JsonNode c) {
        MropeIndex.Result r = compute(c);
        int[][] expected = new int[3][];
        for (int s = 0; s < 3; s++) {
            expected[s] = ints(c.get("positions").get(s));
        }
        assertThat(r.positions()).isDeepEqualTo(expected);
        assertThat(r.delta()).isEqualTo(c.get("delta").asInt());
    }

    @Test
    void handCheckedImage() {
        // 2 text, start, a 4x6 grid (2x3 after merging), end, 1 text
        int[] prompt = {1, 2, START, IMAGE, IMAGE, IMAGE, IMAGE, IMAGE, IMAGE, END, 3};
        MropeIndex.Result r = MropeIndex.qwen2Vl(IMAGE, VIDEO, 2).compute(prompt, new int[][] {{1, 4, 6}}, null, null);
        assertThat(r.positions()[0]).containsExactly(0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7);
        assertThat(r.positions()[1]).containsExactly(0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7);
        assertThat(r.positions()[2]).containsExactly(0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7);
        assertThat(r.delta()).isEqualTo(7 + 1 - 11);
    }

    @Test
    void generatedTokensContinueAtPPlusDelta() {
        int[] prompt = {1, START, IMAGE, IMAGE, IMAGE, IMAGE, IMAGE, IMAGE, IMAGE, IMAGE, END, 2};
        MropeIndex index = MropeIndex.qwen2Vl(IMAGE, VIDEO, 2);
        MropeIndex.Result r = index.compute(prompt, new int[][] {{2, 4, 4}}, null, null);
        RequestPositions positions = index.positions(prompt, new int[][] {{2, 4, 4}}, null, null);
        assertThat(positions.delta()).isEqualTo(r.delta());

        int[][] out = new int[3][prompt.length + 3];
        positions.fill(0, prompt.length + 3, out, 0);
        for (int s = 0; s < 3; s++) {
            for (int p = 0; p < prompt.length; p++) {
                assertThat(out[s][p]).isEqualTo(r.positions()[s][p]);
            }
            for (int p = prompt.length; p < prompt.length + 3; p++) {
                assertThat(out[s][p]).as("section %d token %d", s, p).isEqualTo(p + r.delta());
            }
        }
        // the first generated token follows the largest prompt position (text "2" at 5), whatever the section
        assertThat(out[0][prompt.length]).isEqualTo(6);
    }

    @Test
    void tooFewImageTokensNamesBothCounts() {
        int[] prompt = {1, START, IMAGE, IMAGE, IMAGE, END};
        assertThatThrownBy(() -> MropeIndex.qwen2Vl(IMAGE, VIDEO, 2).compute(prompt, new int[][] {{1, 4, 4}}, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 image tokens")
                .hasMessageContaining("need 4");
    }

    @Test
    void videoTokensWithoutGridNamesBothCounts() {
        int[] prompt = {1, START, VIDEO, VIDEO, END};
        assertThatThrownBy(() -> MropeIndex.qwen2Vl(IMAGE, VIDEO, 2).compute(prompt, null, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 video tokens")
                .hasMessageContaining("need 0");
    }

    @Test
    void gridsWithoutTokensAreRejected() {
        int[] prompt = {1, 2, 3};
        assertThatThrownBy(() -> MropeIndex.qwen2Vl(IMAGE, VIDEO, 2).compute(prompt, new int[][] {{1, 2, 2}}, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 image tokens")
                .hasMessageContaining("need 1");
    }

    @Test
    void runsThatSplitAGridAreRejected() {
        // 4 image tokens in total, as the two grids need (1 + 3), but the runs are 3 + 1
        int[] prompt = {START, IMAGE, IMAGE, IMAGE, END, START, IMAGE, END};
        assertThatThrownBy(() -> MropeIndex.qwen2Vl(IMAGE, VIDEO, 2)
                .compute(prompt, new int[][] {{1, 2, 2}, {1, 2, 6}}, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("image 1");
    }

    @Test
    void secondsPerGridMustMatchVideos() {
        int[] prompt = {1, START, VIDEO, END};
        assertThatThrownBy(() -> MropeIndex.qwen25Vl(IMAGE, VIDEO, 2, 2)
                .compute(prompt, null, new int[][] {{1, 2, 2}}, new float[] {1f, 2f}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 second_per_grid_ts values for 1 videos");
    }

    @Test
    void emptyPromptAndTinyGridsAreRejected() {
        MropeIndex index = MropeIndex.qwen2Vl(IMAGE, VIDEO, 2);
        assertThatThrownBy(() -> index.compute(new int[0], null, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> index.compute(new int[] {1}, new int[][] {{1, 1, 4}}, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("covers no tokens");
    }

    private static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int k = 0; k < v.length; k++) {
            v[k] = a.get(k).asInt();
        }
        return v;
    }

    private static int[][] grids(JsonNode a) {
        if (a.size() == 0) {
            return null;
        }
        int[][] g = new int[a.size()][];
        for (int k = 0; k < g.length; k++) {
            g[k] = ints(a.get(k));
        }
        return g;
    }
}
