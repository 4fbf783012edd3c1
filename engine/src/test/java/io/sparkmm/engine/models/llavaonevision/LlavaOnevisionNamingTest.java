package io.sparkmm.engine.models.llavaonevision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.SafeTensor;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The other tensor-name generations: the transformers-written tiny checkpoint renamed to the Hub's
 * llava-hf names ({@code vision_tower.vision_model.*}) and to the in-memory {@code model.*} names must
 * give transformers' logits for the same prompt; a checkpoint without image_newline fails naming it.
 */
class LlavaOnevisionNamingTest {

    @TempDir
    static Path tmp;
    static Backend backend;
    static Path source;
    static JsonNode chatCase;

    @BeforeAll
    static void open() throws Exception {
        backend = Backends.open("cpu", 2);
        source = Path.of(LlavaOnevisionNamingTest.class.getResource("/llava_onevision/tiny").toURI());
        JsonNode doc = new ObjectMapper().readTree(source.resolveSibling("fixtures.json").toFile());
        for (JsonNode c : doc.get("cases")) {
            if (c.get("name").asText().equals("ov-150x12.png chat")) {
                chatCase = c;
            }
        }
        assertThat(chatCase).isNotNull();
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    /** A copy of the tiny checkpoint with every tensor renamed; null drops the tensor. */
    private static Path renamed(String name, UnaryOperator<String> rename) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(source)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals(Checkpoint.SINGLE_FILE)) {
                    Files.copy(f, dir.resolve(f.getFileName()));
                }
            }
        }
        SafetensorsWriter w = new SafetensorsWriter();
        try (Checkpoint ckpt = Checkpoint.open(source)) {
            for (String t : ckpt.tensorNames()) {
                String to = rename.apply(t);
                if (to != null) {
                    SafeTensor st = ckpt.tensor(t);
                    byte[] bytes = new byte[st.data().remaining()];
                    st.data().duplicate().get(bytes);
                    w.addRaw(to, "F32", 4, st.shape(), bytes);
                }
            }
        }
        w.write(dir.resolve(Checkpoint.SINGLE_FILE));
        return dir;
    }

    private static void assertTransformersLogits(Path dir) throws Exception {
        try (LoadedModel model = LoadedModel.open(dir, backend)) {
            MultimodalProcessor processor = new MultimodalProcessor(model, new ProcessorCache(16L << 20),
                    MediaLimits.defaults());
            Path image = source.resolveSibling("images").resolve(chatCase.get("image").asText());
            EngineRequest r = processor.build(null, new PromptInput(chatCase.get("question").asText(), null, true, null,
                    List.of(MediaSource.ofPath(image.toString())), List.of(), List.of(), ProcessorKwargs.NONE),
                    SamplingParams.greedy(1));
            float[] logits = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()))
                    .lastLogits(r.promptTokenIds(), r.media());
            JsonNode expected = chatCase.get("last_logits");
            assertThat(logits).hasSize(expected.size());
            for (int i = 0; i < logits.length; i++) {
                assertThat(logits[i]).as("logit %d", i).isCloseTo((float) expected.get(i).asDouble(), within(2e-4f));
            }
        }
    }

    @Test
    void theHubsVisionModelLevelLoadsToTheSameLogits() throws Exception {
        assertTransformersLogits(renamed("hub", t -> t.startsWith("vision_tower.")
                ? "vision_tower.vision_model." + t.substring("vision_tower.".length()) : t));
    }

    @Test
    void theInMemoryModelNamesLoadToTheSameLogits() throws Exception {
        assertTransformersLogits(renamed("in-memory", t -> {
            if (t.equals("language_model.lm_head.weight")) {
                return "lm_head.weight";
            }
            if (t.startsWith("language_model.model.")) {
                return "model.language_model." + t.substring("language_model.model.".length());
            }
            return "model." + t;
        }));
    }

    @Test
    void aMissingImageNewlineIsNamedInTheError() throws Exception {
        Path dir = renamed("no-newline", t -> t.equals("image_newline") ? null : t);
        assertThatThrownBy(() -> LoadedModel.open(dir, backend)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("image_newline");
    }
}
