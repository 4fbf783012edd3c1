package io.sparkmm.engine.models.qwen2vl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Qwen2-VL and Qwen2.5-VL against Hugging Face transformers itself, from the fixtures
 * src/test/python/qwen2vl_fixtures.py recorded with transformers 4.57 and 5.18 on checkpoints
 * those versions wrote with save_pretrained. Every case runs the whole sparkmm path: the chat
 * template of the checkpoint over the case's messages, images read from their PNGs, videos read
 * by the ffmpeg decoder from a lossless file of the very frames HF saw, our processors, our
 * vision tower, our M-RoPE positions and our decoder. Checked: expanded input ids, grids and
 * seconds per patch, pixel values (sha256 of the float32 bytes: bit-exact), positions and rope
 * delta, vision features and last-position logits within 2e-4, and the 8 greedy tokens.
 */
class Qwen2VlHfConformanceTest {

    private static final float TOL = 2e-4f;

    @TempDir
    static Path tmp;
    static Backend backend;
    static final Map<String, LoadedModel> MODELS = new HashMap<>();

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu", 2);
    }

    @AfterAll
    static void close() {
        MODELS.values().forEach(LoadedModel::close);
        backend.close();
    }

    @TestFactory
    List<DynamicTest> transformers4() throws Exception {
        return cases("tf4");
    }

    @TestFactory
    List<DynamicTest> transformers5() throws Exception {
        return cases("tf5");
    }

    /**
     * Our writer's checkpoints (both on-disk layouts, BF16 and F16, tied and untied): the committed
     * directories are what the writer writes today, transformers loads them with no missing,
     * unexpected or mismatched keys, and its numbers on them are ours. transformers 4.57 cannot read
     * the transformers-5 layout (it knows no rope_parameters), which its fixture records.
     */
    @TestFactory
    List<DynamicTest> ourWritersCheckpoints() throws Exception {
        Path root = Path.of(resourcePath("/checkpoints-qwen2vl"));
        List<String> committed;
        try (var dirs = java.nio.file.Files.list(root)) {
            committed = dirs.map(d -> d.getFileName().toString()).sorted().toList();
        }
        assertThat(committed).containsExactlyInAnyOrderElementsOf(Qwen2VlOracleCheckpoints.specs().keySet());
        List<DynamicTest> tests = new ArrayList<>();
        Qwen2VlOracleCheckpoints.specs().forEach((name, spec) -> tests.add(DynamicTest.dynamicTest(name + " is the writer's output", () -> {
            Path fresh = TinyQwen2VlCheckpoint.write(tmp.resolve("fresh-" + name), spec);
            try (var files = java.nio.file.Files.list(fresh)) {
                for (Path f : files.toList()) {
                    assertThat(java.nio.file.Files.readAllBytes(root.resolve(name).resolve(f.getFileName())))
                            .as("%s/%s (rerun Qwen2VlOracleCheckpoints and the fixture script)", name, f.getFileName())
                            .isEqualTo(java.nio.file.Files.readAllBytes(f));
                }
            }
        })));
        for (String era : List.of("tf4", "tf5")) {
            JsonNode doc = fixtures(era);
            List<String> seen = new ArrayList<>();
            for (JsonNode o : doc.get("ours")) {
                seen.add(o.get("checkpoint").asText());
                tests.add(DynamicTest.dynamicTest(era + " " + o.get("checkpoint").asText(), () -> {
                    if (o.has("skipped")) {
                        assertThat(era).isEqualTo("tf4");
                        JsonNode config = new ObjectMapper().readTree(Path.of(resourcePath(o.get("resource").asText()))
                                .resolve("config.json").toFile());
                        assertThat(config.path("text_config").has("rope_parameters")).as("a transformers-5 layout").isTrue();
                        return;
                    }
                    o.get("loading_info").fields().forEachRemaining(e ->
                            assertThat(e.getValue()).as("%s %s", o.get("checkpoint"), e.getKey()).isEmpty());
                    check(era, doc.get("image_dir").asText(), o.get("resource").asText(), o);
                }));
            }
            assertThat(seen).as(era + " ours").containsExactlyInAnyOrderElementsOf(committed);
        }
        return tests;
    }

    private JsonNode fixtures(String era) throws Exception {
        JsonNode doc;
        try (InputStream in = getClass().getResourceAsStream("/hf/" + era + "/qwen2vl_fixtures.json")) {
            assertThat(in).as("qwen2vl_fixtures.json of " + era).isNotNull();
            doc = new ObjectMapper().readTree(in);
        }
        assertThat(doc.get("versions").get("transformers").asText()).startsWith(era.equals("tf4") ? "4." : "5.");
        return doc;
    }

    private List<DynamicTest> cases(String era) throws Exception {
        JsonNode doc = fixtures(era);
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            JsonNode ckpt = doc.get("checkpoints").get(c.get("checkpoint").asText());
            assertThat(ckpt.get("loading_info").toString()).doesNotContain("\"missing_keys\":[\"");
            tests.add(DynamicTest.dynamicTest(era + " " + c.get("name").asText(),
                    () -> check(era, doc.get("image_dir").asText(), ckpt.get("resource").asText(), c)));
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(8);
        return tests;
    }

    private static LoadedModel model(String resource) {
        return MODELS.computeIfAbsent(resource, r -> {
            try {
                return LoadedModel.open(Path.of(Qwen2VlHfConformanceTest.class.getResource(r).toURI()), backend);
            } catch (java.net.URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private void check(String era, String imageDir, String resource, JsonNode c) throws Exception {
        LoadedModel model = model(resource);
        MultimodalProcessor processor = Qwen2VlTesting.processor(model);
        List<MediaSource> images = new ArrayList<>();
        List<MediaSource> videos = new ArrayList<>();
        String text = null;
        JsonNode content = c.get("messages").get(0).get("content");
        for (JsonNode entry : content.isTextual() ? List.<JsonNode>of() : iterable(content)) {
            switch (entry.get("type").asText()) {
                case "image" -> images.add(MediaSource.ofPath(resourcePath(imageDir + "/" + entry.get("image").asText())));
                case "video" -> videos.add(MediaSource.ofPath(losslessVideo(imageDir, c, entry.get("video").asText())));
                case "text" -> text = entry.get("text").asText();
                default -> throw new IllegalStateException("entry " + entry);
            }
        }
        if (content.isTextual()) {
            text = content.asText();
        }
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        EngineRequest r = processor.build(null, new PromptInput(text, null, true, null, images, List.of(), videos,
                ProcessorKwargs.NONE), greedy);

        assertThat(r.promptTokenIds()).as("input ids (chat template + placeholder expansion)")
                .containsExactly(ints(c.get("input_ids")));
        List<MediaInput> imageItems = r.media().stream().filter(m -> m.modality().equals("image")).toList();
        List<MediaInput> videoItems = r.media().stream().filter(m -> m.modality().equals("video")).toList();
        checkItems(imageItems, c.get("image_grid_thw"), c.get("pixel_values"), "image");
        checkItems(videoItems, c.get("video_grid_thw"), c.get("pixel_values_videos"), "video");
        if (!c.get("second_per_grid_ts").isNull()) {
            for (int v = 0; v < videoItems.size(); v++) {
                assertThat(videoItems.get(v).tensor(Qwen2VlProcessor.SECOND_PER_GRID_T).data()[0])
                        .isEqualTo((float) c.get("second_per_grid_ts").get(v).asDouble());
            }
        }

        int n = r.promptTokenIds().length;
        int[][] positions = new int[3][n];
        var rp = model.model().positions(r.promptTokenIds(), r.media());
        rp.fill(0, n, positions, 0);
        JsonNode expectedPositions = c.get("position_ids");
        if (era.equals("tf5") && c.get("name").asText().contains("time_dominates")) {
            // transformers 5.18 continues text after such a video at start + max(h, w) / merge, below the
            // video's last frames; we follow 4.57, Qwen's release and vLLM (MropeIndexTest shows both)
            assertThat(rp.delta()).isEqualTo(c.get("rope_delta").asInt() + 1);
        } else {
            for (int s = 0; s < 3; s++) {
                assertThat(positions[s]).as("positions, section %d", s).containsExactly(ints(expectedPositions.get(s)));
            }
            assertThat(rp.delta()).as("rope delta").isEqualTo(c.get("rope_delta").asInt());
        }

        checkFeatures(model, imageItems, c.get("vision_features").get("images"));
        checkFeatures(model, videoItems, c.get("vision_features").get("videos"));

        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        if (era.equals("tf5") && c.get("name").asText().contains("time_dominates")) {
            return; // the text after the video sits elsewhere in 5.18, so its logits are not ours
        }
        float[] logits = naive.lastLogits(r.promptTokenIds(), r.media());
        float[] expected = floats(c.get("last_logits"));
        assertThat(logits).as("last logits").hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(logits[i]).as("logit %d", i).isCloseTo(expected[i], within(TOL));
        }
        assertThat(c.get("near_ties")).isEmpty();
        assertThat(naive.generate(r.promptTokenIds(), r.media(), greedy).tokenIds()).as("greedy tokens")
                .containsExactly(ints(c.get("greedy_ids")));
    }

    private static void checkItems(List<MediaInput> items, JsonNode grids, JsonNode pixels, String kind) throws Exception {
        int expected = grids == null || grids.isNull() ? 0 : grids.size();
        assertThat(items).as(kind + " items").hasSize(expected);
        if (expected == 0) {
            return;
        }
        List<float[]> parts = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            assertThat(items.get(i).tensor(Qwen2VlProcessor.GRID_THW).ints()).as(kind + " grid " + i)
                    .containsExactly(ints(grids.get(i)));
            parts.add(items.get(i).tensor(Qwen2VlProcessor.PIXEL_VALUES).data());
        }
        // HF concatenates the items of a modality along the patch axis
        int total = parts.stream().mapToInt(p -> p.length).sum();
        ByteBuffer bytes = ByteBuffer.allocate(4 * total).order(ByteOrder.LITTLE_ENDIAN);
        parts.forEach(p -> {
            for (float f : p) {
                bytes.putFloat(f);
            }
        });
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
        assertThat(sha).as(kind + " pixel values sha256 (float32 bytes)").isEqualTo(pixels.get("sha256").asText());
    }

    private static void checkFeatures(LoadedModel model, List<MediaInput> items, JsonNode expected) {
        assertThat(items).hasSize(expected.size());
        for (int i = 0; i < items.size(); i++) {
            float[] ours;
            try (Tensor t = model.model().encode(items.get(i))) {
                ours = backend.download(t);
            }
            JsonNode e = expected.get(i);
            int width = e.get("shape").get(1).asInt();
            assertThat(ours.length).isEqualTo(e.get("shape").get(0).asInt() * width);
            JsonNode rows = e.get("first_rows");
            for (int row = 0; row < rows.size(); row++) {
                for (int col = 0; col < width; col++) {
                    assertThat(ours[row * width + col]).as("feature [%d, %d]", row, col)
                            .isCloseTo((float) rows.get(row).get(col).asDouble(), within(TOL));
                }
            }
            JsonNode index = e.get("sample_index");
            for (int k = 0; k < index.size(); k++) {
                assertThat(ours[index.get(k).asInt()]).as("feature sample %d", k)
                        .isCloseTo((float) e.get("sample").get(k).asDouble(), within(TOL));
            }
        }
    }

    /** The case's video frames (PNGs) as a lossless PNG-in-Matroska file at the recorded fps. */
    private static String losslessVideo(String imageDir, JsonNode c, String name) {
        JsonNode v = null;
        for (JsonNode x : c.get("videos")) {
            if (x.get("name").asText().equals(name)) {
                v = x;
            }
        }
        assertThat(v).as("video " + name).isNotNull();
        Path first = Path.of(resourcePath(imageDir + "/" + v.get("frames").get(0).asText()));
        Path out = tmp.resolve(name + ".mkv");
        if (!out.toFile().exists()) {
            String pattern = first.getParent().resolve(name + "-f%d.png").toString();
            Qwen2VlTesting.ffmpegInput(out, List.of("-framerate", String.valueOf(v.get("fps").asDouble()), "-i", pattern),
                    "-c:v", "png");
        }
        return out.toString();
    }

    private static String resourcePath(String resource) {
        try {
            return Path.of(Qwen2VlHfConformanceTest.class.getResource(resource).toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException("missing test resource " + resource, e);
        }
    }

    private static List<JsonNode> iterable(JsonNode a) {
        List<JsonNode> out = new ArrayList<>();
        a.forEach(out::add);
        return out;
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }
}
