package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Chat mode on the tiny Qwen2-Audio checkpoint against transformers: each clip becomes a
 * {"type": "audio"} entry of the user message, the checkpoint's own chat template renders it
 * ("Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>"), and <|AUDIO|> is expanded to the clip's token
 * count. The expected input_ids are Qwen2AudioProcessor.apply_chat_template + the processor's
 * (qwen2audio_chat_fixtures.py), including the default system message the template adds.
 */
class Qwen2AudioChatTest {

    private static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny");
    private static final Path FIXTURES = Path.of("src/test/resources/qwen2audio/qwen2audio_chat_fixtures.json");

    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(CKPT, backend);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
        backend.close();
    }

    @TestFactory
    List<DynamicTest> expandedChatPromptIsTransformers() throws Exception {
        JsonNode fx = new ObjectMapper().readTree(FIXTURES.toFile());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : fx.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        // a fixture file that lost its cases would pass vacuously
        assertThat(tests).hasSize(3);
        return tests;
    }

    private static void check(JsonNode c) {
        List<MediaSource> clips = new ArrayList<>();
        for (int i = 0; i < c.get("samples").size(); i++) {
            int n = c.get("samples").get(i).asInt();
            float[] samples = Qwen2AudioTestClips.clip(n, c.get("seeds").get(i).asLong());
            clips.add(MediaSource.ofBytes("clip" + i + ".wav", Qwen2AudioTestClips.floatWav(samples, 16000)));
        }
        String system = c.get("system").isNull() ? null : c.get("system").asText();
        MultimodalProcessor processor = new MultimodalProcessor(model, new ProcessorCache(16L << 20),
                MediaLimits.defaults());
        EngineRequest r = processor.build(null, new PromptInput(c.get("text").asText(), null, true, system,
                List.of(), clips, List.of(), ProcessorKwargs.NONE), SamplingParams.greedy(1));
        int[] expected = new int[c.get("input_ids").size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = c.get("input_ids").get(i).asInt();
        }
        assertThat(r.promptTokenIds()).as("chat template + <|AUDIO|> expansion (transformers rendered %s)",
                c.get("rendered").asText()).containsExactly(expected);
        assertThat(r.media()).hasSize(clips.size());
    }
}
