package io.sparkmm.engine.models.llavaonevision;

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
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * LLaVA-OneVision against Hugging Face transformers 5 itself, from the fixtures of
 * src/test/python/llava_onevision_fixtures.py: a tiny checkpoint transformers wrote with
 * save_pretrained (loaded there with no missing or unexpected keys), images of one tile, a 2 x 2
 * canvas shrunk by anyres_max_2, and both extreme aspect ratios. Every case runs the whole sparkmm
 * path (chat template or a plain prompt, our AnyRes processor, SigLIP tower, projector, packing,
 * Qwen2 decoder); checked: expanded input ids, pixel values bit-exact (sha256 of the float32
 * bytes), the last-position logits within 2e-4 and the 8 greedy tokens.
 */
class LlavaOnevisionHfConformanceTest {

    private static final float TOL = 2e-4f;
    private static final String ROOT = "/llava_onevision";

    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void open() throws Exception {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(Path.of(resourcePath(ROOT + "/tiny")), backend);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
        backend.close();
    }

    @TestFactory
    List<DynamicTest> transformers5() throws Exception {
        JsonNode doc;
        try (InputStream in = getClass().getResourceAsStream(ROOT + "/fixtures.json")) {
            assertThat(in).as("fixtures.json").isNotNull();
            doc = new ObjectMapper().readTree(in);
        }
        assertThat(doc.get("versions").get("transformers").asText()).startsWith("5.");
        doc.get("loading_info").fields().forEachRemaining(e ->
                assertThat(e.getValue()).as("transformers loading the tiny checkpoint: " + e.getKey()).isEmpty());
        assertThat(model.model()).isInstanceOf(LlavaOnevisionModel.class);
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(5);
        return tests;
    }

    private void check(JsonNode c) throws Exception {
        MultimodalProcessor processor = new MultimodalProcessor(model, new ProcessorCache(16L << 20),
                MediaLimits.defaults());
        List<MediaSource> images = List.of(MediaSource.ofPath(resourcePath(ROOT + "/images/" + c.get("image").asText())));
        boolean chat = c.get("chat").asBoolean();
        String text = chat ? c.get("question").asText() : c.get("prompt_text").asText();
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
        EngineRequest r = processor.build(null, new PromptInput(text, null, chat, null, images, List.of(), List.of(),
                ProcessorKwargs.NONE), greedy);

        assertThat(r.promptTokenIds()).as("input ids (template + <image> expansion)")
                .containsExactly(ints(c.get("input_ids")));
        assertThat(r.media()).hasSize(1);
        MediaInput item = r.media().get(0);
        assertThat(item.numEmbeddings()).as("image tokens").isEqualTo(c.get("image_tokens").asInt());
        assertThat(item.tensor(LlavaOnevisionProcessor.IMAGE_SIZES).ints()).containsExactly(ints(c.get("image_sizes")));
        assertThat(item.tensor(LlavaOnevisionProcessor.PIXEL_VALUES).shape()[0]).isEqualTo(c.get("num_patches").asInt());
        float[] pixels = item.tensor(LlavaOnevisionProcessor.PIXEL_VALUES).data();
        ByteBuffer bytes = ByteBuffer.allocate(4 * pixels.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : pixels) {
            bytes.putFloat(f);
        }
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array())))
                .as("pixel values sha256 (float32 bytes)").isEqualTo(c.get("pixel_sha256").asText());

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

    private static String resourcePath(String resource) {
        try {
            return Path.of(LlavaOnevisionHfConformanceTest.class.getResource(resource).toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException("missing test resource " + resource, e);
        }
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
