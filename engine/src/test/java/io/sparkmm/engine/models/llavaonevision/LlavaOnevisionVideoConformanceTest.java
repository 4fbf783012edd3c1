package io.sparkmm.engine.models.llavaonevision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlTesting;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * LLaVA-OneVision's multi-image and video paths against Hugging Face transformers 5, from the fixtures of
 * src/test/python/llava_onevision_video_fixtures.py, on two checkpoints: the one transformers wrote and
 * the one {@link TinyLlavaOnevisionCheckpoint} writes (transformers loads it with no missing, unexpected
 * or mismatched keys; this test also checks the writer still makes those very bytes). Each case runs the
 * whole sparkmm path: chat template or plain prompt, videos decoded by ffmpeg from lossless files of the
 * fixture frames, our processors, tower, projector, packing or pooling, decoder. Checked: expanded input
 * ids, each item's pixel values bit-exact (sha256 of the float32 bytes), last-position logits within 2e-4
 * and the 8 greedy tokens.
 */
class LlavaOnevisionVideoConformanceTest {

    private static final float TOL = 2e-4f;
    static final String OURS = "/checkpoints-llava-onevision/llava_onevision_ours";
    static final String IMAGES = "/llava_onevision/images";

    @TempDir
    static Path tmp;
    static Backend backend;
    static LoadedModel hfTiny;
    static LoadedModel ours;
    static JsonNode doc;

    @BeforeAll
    static void open() throws Exception {
        backend = Backends.open("cpu", 2);
        hfTiny = LoadedModel.open(Path.of(resourcePath("/llava_onevision/tiny")), backend);
        ours = LoadedModel.open(Path.of(resourcePath(OURS)), backend);
        try (InputStream in = LlavaOnevisionVideoConformanceTest.class.getResourceAsStream("/llava_onevision/video_fixtures.json")) {
            assertThat(in).as("video_fixtures.json").isNotNull();
            doc = new ObjectMapper().readTree(in);
        }
    }

    @AfterAll
    static void close() {
        hfTiny.close();
        ours.close();
        backend.close();
    }

    @Test
    void transformersLoadsOurCheckpointWithNoKeyProblemsAndTheWriterStillMakesIt() throws Exception {
        assertThat(doc.get("versions").get("transformers").asText()).startsWith("5.");
        for (String ckpt : List.of("hf_tiny", "ours")) {
            doc.get("loading_info").get(ckpt).fields().forEachRemaining(e ->
                    assertThat(e.getValue()).as("transformers loading " + ckpt + ": " + e.getKey()).isEmpty());
            assertThat(doc.get("loading_info").get(ckpt).size()).isEqualTo(4);
        }
        Path written = TinyLlavaOnevisionCheckpoint.write(tmp.resolve("ours"), TinyLlavaOnevisionCheckpoint.Spec.defaults());
        Path committed = Path.of(resourcePath(OURS));
        try (var files = Files.list(committed)) {
            for (Path f : files.toList()) {
                assertThat(Files.readAllBytes(written.resolve(f.getFileName()))).as(f.getFileName().toString())
                        .isEqualTo(Files.readAllBytes(f));
            }
        }
    }

    @TestFactory
    List<DynamicTest> transformers5() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(8);
        return tests;
    }

    private void check(JsonNode c) throws Exception {
        LoadedModel model = c.get("checkpoint").asText().equals("ours") ? ours : hfTiny;
        MultimodalProcessor processor = new MultimodalProcessor(model, new ProcessorCache(16L << 20), MediaLimits.defaults());
        List<MediaSource> images = new ArrayList<>();
        List<MediaSource> videos = new ArrayList<>();
        String question = null;
        for (JsonNode e : c.get("content")) {
            switch (e.get(0).asText()) {
                case "image" -> images.add(MediaSource.ofPath(resourcePath(IMAGES + "/" + e.get(1).asText())));
                case "video" -> videos.add(MediaSource.ofPath(losslessVideo(e.get(1).asText()).toString()));
                default -> question = e.get(1).asText();
            }
        }
        boolean chat = c.get("chat").asBoolean();
        String text = chat ? question : c.get("prompt_text").asText();
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        EngineRequest r = processor.build(null, new PromptInput(text, null, chat, null, images, List.of(), videos,
                ProcessorKwargs.NONE), greedy);

        assertThat(r.promptTokenIds()).as("input ids (template + <image>/<video> expansion)")
                .containsExactly(ints(c.get("input_ids")));
        JsonNode items = c.get("items");
        assertThat(r.media()).hasSize(items.size());
        // HF lists the images, then the videos; ours are in prompt order, which is the same here
        for (int i = 0; i < items.size(); i++) {
            JsonNode expected = items.get(i);
            MediaInput item = r.media().get(i);
            assertThat(item.modality()).isEqualTo(expected.get("modality").asText());
            String tensor = item.modality().equals("video") ? LlavaOnevisionProcessor.PIXEL_VALUES_VIDEOS
                    : LlavaOnevisionProcessor.PIXEL_VALUES;
            if (item.modality().equals("video")) {
                assertThat(item.tensor(tensor).shape()[0]).as("frames").isEqualTo(expected.get("frames").asInt());
            } else {
                assertThat(item.tensor(tensor).shape()[0]).as("patches").isEqualTo(expected.get("num_patches").asInt());
                assertThat(item.tensor(LlavaOnevisionProcessor.IMAGE_SIZES).ints())
                        .containsExactly(ints(expected.get("image_size")));
            }
            assertThat(sha256(item.tensor(tensor).data())).as("item %d pixel values sha256", i)
                    .isEqualTo(expected.get("pixel_sha256").asText());
        }

        NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
        float[] logits = naive.lastLogits(r.promptTokenIds(), r.media());
        float[] expected = floats(c.get("last_logits"));
        assertThat(logits).hasSameSizeAs(expected);
        float worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(logits[i] - expected[i]));
            assertThat(logits[i]).as("logit %d", i).isCloseTo(expected[i], within(TOL));
        }
        System.out.printf("llava-onevision %s: max |logit - HF| = %.3g%n", c.get("name").asText(), worst);
        assertThat(naive.generate(r.promptTokenIds(), r.media(), greedy).tokenIds()).as("greedy tokens")
                .containsExactly(ints(c.get("greedy_ids")));
    }

    /**
     * Frames of another size than the tile: our Pillow-algorithm resize against HF's own (torchvision)
     * resize of the raw frames, in byte levels of the resized picture.
     */
    @Test
    void videoFramesResizedWithinAFewByteLevelsOfTorchvision() throws Exception {
        JsonNode tv = doc.get("torchvision_video");
        byte[] hf = Base64.getDecoder().decode(tv.get("resized_rgb_b64").asText());
        int frames = tv.get("shape").get(0).asInt();
        int h = tv.get("shape").get(1).asInt();
        int w = tv.get("shape").get(2).asInt();
        MultimodalProcessor processor = new MultimodalProcessor(ours, new ProcessorCache(16L << 20), MediaLimits.defaults());
        EngineRequest r = processor.build(null, new PromptInput("<video> x", null, false, null, List.of(), List.of(),
                List.of(MediaSource.ofPath(losslessVideo(tv.get("video").asText()).toString())), ProcessorKwargs.NONE),
                SamplingParams.greedy(1));
        float[] px = r.media().get(0).tensor(LlavaOnevisionProcessor.PIXEL_VALUES_VIDEOS).data();
        assertThat(px).hasSize(frames * 3 * h * w);
        double[] mean = {0.48145466, 0.4578275, 0.40821073};
        double[] std = {0.26862954, 0.26130258, 0.27577711};
        double worst = 0;
        for (int t = 0; t < frames; t++) {
            for (int ch = 0; ch < 3; ch++) {
                for (int p = 0; p < h * w; p++) {
                    double ours = px[((t * 3 + ch) * h * w) + p] * std[ch] * 255 + mean[ch] * 255;
                    int theirs = hf[((t * h * w) + p) * 3 + ch] & 0xFF;
                    worst = Math.max(worst, Math.abs(ours - theirs));
                }
            }
        }
        System.out.printf("llava-onevision video resize: max |ours - torchvision| = %.2f byte levels (Pillow vs"
                + " torchvision in Python: %d)%n", worst, tv.get("max_byte_diff_vs_pillow").asInt());
        assertThat(worst).isLessThanOrEqualTo(tv.get("max_byte_diff_vs_pillow").asInt() + 0.01).isLessThanOrEqualTo(3.01);
    }

    /**
     * A template in the released llava-hf OneVision style (media first via selectattr, the assistant's
     * text in {@code generation}) renders image and video entries as jinja2 does under transformers.
     */
    @Test
    void aReleasedStyleTemplateRendersVideoEntriesAsJinja2() {
        JsonNode t = doc.get("released_style_template");
        io.sparkmm.engine.template.ChatTemplate template = new io.sparkmm.engine.template.ChatTemplate(
                t.get("template").asText());
        assertThat(t.get("cases")).hasSizeGreaterThanOrEqualTo(3);
        for (JsonNode c : t.get("cases")) {
            List<java.util.Map<String, Object>> messages = new ObjectMapper().convertValue(c.get("messages"),
                    new com.fasterxml.jackson.core.type.TypeReference<>() { });
            assertThat(template.render(messages, true, java.util.Map.of())).as(c.get("name").asText())
                    .isEqualTo(c.get("rendered").asText());
        }
    }

    /** The fixture's video as a lossless PNG-in-Matroska file at 2 fps (made once per run). */
    static Path losslessVideo(String name) {
        Path out = tmp.resolve(name + ".mkv");
        if (!Files.exists(out)) {
            String pattern = Path.of(resourcePath(IMAGES + "/" + name + "-f0.png")).getParent()
                    .resolve(name + "-f%d.png").toString();
            Qwen2VlTesting.ffmpegInput(out, List.of("-framerate", "2", "-i", pattern), "-c:v", "png");
        }
        return out;
    }

    static String sha256(float[] values) throws Exception {
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : values) {
            bytes.putFloat(f);
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
    }

    static String resourcePath(String resource) {
        try {
            return Path.of(LlavaOnevisionVideoConformanceTest.class.getResource(resource).toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException("missing test resource " + resource, e);
        }
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }

}
