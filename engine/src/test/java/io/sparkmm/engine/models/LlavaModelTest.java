package io.sparkmm.engine.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import io.sparkmm.engine.checkpoint.SafeTensor;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
import io.sparkmm.engine.models.llava.LlavaTesting;
import io.sparkmm.engine.models.llava.LlavaModel;
import io.sparkmm.engine.models.MediaRows;
import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.prompt.PlaceholderRange;
import io.sparkmm.engine.models.llava.LlavaConfig;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.tokenizer.HfTokenizer;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading LLaVA checkpoints (every HF naming generation), placeholder counts and input checks. */
class LlavaModelTest {

    private static Backend backend;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu-reference", 1);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    /**
     * How each generation names the tensors, from the names our writer uses (transformers 4.52+'s
     * in-memory ones): 4.57's save_pretrained writes the older language_model.model.* and
     * vision_tower.vision_model.*; 5.x's drops the vision_model. level (its tower is the bare CLIP
     * transformer) and keeps the image processor's settings in processor_config.json only.
     */
    private enum Generation {
        WRITER(n -> n, false, "model.vision_tower.vision_model.embeddings.patch_embedding.weight"),
        TF4_SAVED(n -> n.equals("lm_head.weight") ? "language_model.lm_head.weight"
                : n.replaceFirst("^model\\.language_model\\.", "language_model.model.")
                  .replaceFirst("^model\\.vision_tower\\.", "vision_tower.")
                  .replaceFirst("^model\\.multi_modal_projector\\.", "multi_modal_projector."), false,
                "vision_tower.vision_model.embeddings.patch_embedding.weight"),
        TF5_SAVED(n -> TF4_SAVED.rename.apply(n).replaceFirst("^vision_tower\\.vision_model\\.", "vision_tower."), true,
                "vision_tower.embeddings.patch_embedding.weight"),
        TF5_IN_MEMORY(n -> n.replaceFirst("^model\\.vision_tower\\.vision_model\\.", "model.vision_tower."), true,
                "model.vision_tower.embeddings.patch_embedding.weight");

        final UnaryOperator<String> rename;
        final boolean processorConfigOnly;
        final String patchEmbedding;

        Generation(UnaryOperator<String> rename, boolean processorConfigOnly, String patchEmbedding) {
            this.rename = rename;
            this.processorConfigOnly = processorConfigOnly;
            this.patchEmbedding = patchEmbedding;
        }
    }

    @Test
    void everyNamingGenerationLoadsToTheSameModel() throws Exception {
        // Qwen2 is tied (no lm_head at all), Llama untied: both head cases under every naming.
        for (TinyLlavaCheckpoint.Spec spec : List.of(TinyLlavaCheckpoint.Spec.llama(),
                TinyLlavaCheckpoint.Spec.qwen2Full())) {
            Path fresh = TinyLlavaCheckpoint.write(dir.resolve("new-" + spec.strategy()), spec);
            float[] image = randomImage(spec.imageSize(), 5);
            try (Checkpoint a = Checkpoint.open(fresh); LlavaModel ma = LlavaTesting.load(a, backend)) {
                int[] prompt = prompt(ma, 1);
                for (Generation g : Generation.values()) {
                    Path copy = renamed(fresh, dir.resolve(g + "-" + spec.strategy()), g);
                    try (Checkpoint b = Checkpoint.open(copy); LlavaModel mb = LlavaTesting.load(b, backend)) {
                        assertThat(b.has(g.patchEmbedding)).as("%s layout", g).isTrue();
                        assertThat(Files.exists(copy.resolve("preprocessor_config.json")))
                                .isEqualTo(!g.processorConfigOnly);
                        assertThat(features(mb, image)).as("%s features", g).containsExactly(features(ma, image));
                        assertThat(pixels(mb)).as("%s image processor settings", g).containsExactly(pixels(ma));
                        assertThat(LlavaTesting.lastLogits(mb, prompt, List.of(image))).as("%s logits", g)
                                .containsExactly(LlavaTesting.lastLogits(ma, prompt, List.of(image)));
                    }
                }
            }
        }
    }

    private static float[] pixels(LlavaModel m) {
        MediaSource png = MediaSource.ofPath(HfFixtures.image("portrait-21x40.png").toString());
        return m.processor().process("h", "image", png, MediaLimits.defaults()).tensors().get("pixel_values").data();
    }

    /** A copy of a writer's checkpoint as generation {@code g} lays it out. */
    private static Path renamed(Path src, Path dst, Generation g) throws Exception {
        Files.createDirectories(dst);
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
                Files.copy(f, dst.resolve(f.getFileName()));
            }
        }
        if (g.processorConfigOnly) {
            ObjectMapper json = new ObjectMapper();
            ObjectNode proc = (ObjectNode) json.readTree(dst.resolve("processor_config.json").toFile());
            proc.set("image_processor", json.readTree(dst.resolve("preprocessor_config.json").toFile()));
            json.writeValue(dst.resolve("processor_config.json").toFile(), proc);
            Files.delete(dst.resolve("preprocessor_config.json"));
        }
        SafetensorsWriter w = new SafetensorsWriter();
        try (Checkpoint ckpt = Checkpoint.open(src)) {
            for (String name : ckpt.tensorNames()) {
                SafeTensor t = ckpt.tensor(name);
                ByteBuffer data = t.data();
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                w.addRaw(g.rename.apply(name), t.dtype().name(), t.dtype().bytes(), t.shape(), bytes);
            }
        }
        w.write(dst.resolve(Checkpoint.SINGLE_FILE));
        return dst;
    }

    @Test
    void placeholderCountPerStrategyMatchesEncoderOutputAndProcessorConfig() throws Exception {
        Map<TinyLlavaCheckpoint.Spec, Integer> expected = Map.of(
                TinyLlavaCheckpoint.Spec.llama(), 16,         // (32/8)^2, class token dropped
                TinyLlavaCheckpoint.Spec.qwen2Full(), 50,     // (28/4)^2 + class token
                TinyLlavaCheckpoint.Spec.mistralMultiLayer(), 16);
        int i = 0;
        for (var e : expected.entrySet()) {
            Path d = TinyLlavaCheckpoint.write(dir.resolve("c" + i++), e.getKey());
            // LlavaProcessor's rule: patches + num_additional_image_tokens, minus 1 under "default".
            JsonNode proc = new ObjectMapper().readTree(d.resolve("processor_config.json").toFile());
            JsonNode pre = new ObjectMapper().readTree(d.resolve("preprocessor_config.json").toFile());
            int side = pre.get("crop_size").get("height").asInt() / proc.get("patch_size").asInt();
            int processorCount = side * side + proc.get("num_additional_image_tokens").asInt()
                    - (proc.get("vision_feature_select_strategy").asText().equals("default") ? 1 : 0);
            try (Checkpoint ckpt = Checkpoint.open(d); LlavaModel m = LlavaTesting.load(ckpt, backend);
                 Tensor f = m.encodeImage(randomImage(e.getKey().imageSize(), 1))) {
                assertThat(m.imageTokensPerImage()).isEqualTo(e.getValue()).isEqualTo(processorCount)
                        .isEqualTo(LlavaConfig.parse(ckpt.configJson()).imageSeqLength());
                assertThat(f.shape()).containsExactly(e.getValue(), m.languageModel().config().hiddenSize());
            }
        }
    }

    @Test
    void embedWithImagesReplacesExactlyThePlaceholderRows() {
        Path d = TinyLlavaCheckpoint.write(dir.resolve("m"), TinyLlavaCheckpoint.Spec.llama());
        try (Checkpoint ckpt = Checkpoint.open(d); LlavaModel m = LlavaTesting.load(ckpt, backend)) {
            int[] ids = prompt(m, 2);
            int[] offsets = LlavaTesting.placeholderOffsets(m, ids, 2);
            assertThat(offsets).containsExactly(3, 3 + 16 + 2);
            int h = m.languageModel().config().hiddenSize();
            try (Tensor a = m.encodeImage(randomImage(32, 1)); Tensor b = m.encodeImage(randomImage(32, 2));
                 Tensor merged = m.languageModel().embed(ids);
                 Tensor text = m.languageModel().embed(ids)) {
                for (int i = 0; i < 2; i++) {
                    PlaceholderRange range = new PlaceholderRange(offsets[i], 16);
                    MediaRows.merge(backend, i == 0 ? a : b, range, range.offset(), range.end(), merged, range.offset());
                }
                float[] got = backend.download(merged);
                float[] plain = backend.download(text);
                float[] fa = backend.download(a);
                float[] fb = backend.download(b);
                for (int r = 0; r < ids.length; r++) {
                    float[] row = Arrays.copyOfRange(got, r * h, (r + 1) * h);
                    float[] want = r >= offsets[0] && r < offsets[0] + 16 ? Arrays.copyOfRange(fa, (r - offsets[0]) * h, (r - offsets[0] + 1) * h)
                            : r >= offsets[1] && r < offsets[1] + 16 ? Arrays.copyOfRange(fb, (r - offsets[1]) * h, (r - offsets[1] + 1) * h)
                            : Arrays.copyOfRange(plain, r * h, (r + 1) * h);
                    assertThat(row).as("row %d", r).containsExactly(want);
                }
            }
            // Wrong image count, and a placeholder run broken by a text token.
            assertThatThrownBy(() -> LlavaTesting.placeholderOffsets(m, ids, 1)).hasMessageContaining("32 image tokens")
                    .hasMessageContaining("need 16");
            int[] broken = ids.clone();
            broken[5] = 7;
            broken[ids.length - 1] = m.imageTokenId();
            assertThatThrownBy(() -> LlavaTesting.placeholderOffsets(m, broken, 2)).hasMessageContaining("not 16 consecutive");
            assertThatThrownBy(() -> m.encodeImage(new float[3 * 28 * 28]))
                    .hasMessageContaining("3 x 32 x 32 = 3072");
        }
    }

    @Test
    void wrongModelKindsFailClearly() throws Exception {
        Path llava = TinyLlavaCheckpoint.write(dir.resolve("llava"), TinyLlavaCheckpoint.Spec.llama());
        try (Checkpoint ckpt = Checkpoint.open(llava)) {
            assertThat(ModelFamilies.forCheckpoint(ckpt).name()).isEqualTo("llava");
            assertThatThrownBy(() -> new io.sparkmm.engine.models.text.TextFamily().load(ckpt, backend))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("LlavaForConditionalGeneration");
        }
        Path text = TinyCheckpoint.write(dir.resolve("text"), TinyCheckpoint.Spec.mistral());
        try (Checkpoint ckpt = Checkpoint.open(text)) {
            assertThatThrownBy(() -> LlavaTesting.load(ckpt, backend)).hasMessageContaining("MistralForCausalLM");
        }
        // Weights under neither naming: the error names both expected tensors.
        Path renamed = dir.resolve("renamed");
        Files.createDirectories(renamed);
        Files.copy(llava.resolve("config.json"), renamed.resolve("config.json"));
        new SafetensorsWriter().add("foo.weight", io.sparkmm.kernels.DType.F32, new int[] {1}, new float[] {1})
                .write(renamed.resolve(Checkpoint.SINGLE_FILE));
        try (Checkpoint ckpt = Checkpoint.open(renamed)) {
            assertThatThrownBy(() -> LlavaTesting.load(ckpt, backend))
                    .hasMessageContaining("model.language_model.embed_tokens.weight")
                    .hasMessageContaining("language_model.model.embed_tokens.weight");
        }
        // No image processor settings in either place an era keeps them: the error names both files.
        Files.delete(llava.resolve("preprocessor_config.json"));
        try (Checkpoint ckpt = Checkpoint.open(llava)) {
            assertThatThrownBy(() -> LlavaTesting.load(ckpt, backend))
                    .hasMessageContaining("preprocessor_config.json")
                    .hasMessageContaining("processor_config.json with an image_processor entry");
        }
    }

    @Test
    void tokenizerAndChatTemplatePlaceTheImageToken() throws Exception {
        Path d = TinyLlavaCheckpoint.write(dir.resolve("tok"), TinyLlavaCheckpoint.Spec.llama());
        try (HfTokenizer tok = HfTokenizer.load(d)) {
            assertThat(tok.tokenId("<image>")).hasValue(TinyLlavaCheckpoint.IMAGE_TOKEN_ID);
            String text = tok.chatTemplate().orElseThrow().render(List.of(Map.of("role", "user", "content", List.of(
                    Map.of("type", "image"), Map.of("type", "text", "text", "What is this?")))), true, null);
            assertThat(text).isEqualTo("USER: <image>\nWhat is this? ASSISTANT:");
            int[] ids = tok.encode(text, false);
            assertThat(Arrays.stream(ids).filter(id -> id == TinyLlavaCheckpoint.IMAGE_TOKEN_ID).count()).isEqualTo(1);
        }
    }

    private static float[] features(LlavaModel m, float[] image) {
        try (Tensor f = m.encodeImage(image)) {
            return m.backend().download(f);
        }
    }

    /** Three text tokens, then per image its placeholder run and two text tokens. */
    private static int[] prompt(LlavaModel m, int images) {
        int per = m.imageTokensPerImage();
        int[] ids = new int[3 + images * (per + 2)];
        int pos = 0;
        ids[pos++] = 10;
        ids[pos++] = 20;
        ids[pos++] = 30;
        for (int i = 0; i < images; i++) {
            for (int k = 0; k < per; k++) {
                ids[pos++] = m.imageTokenId();
            }
            ids[pos++] = 40 + i;
            ids[pos++] = 50 + i;
        }
        return ids;
    }

    private static float[] randomImage(int size, long seed) {
        Random r = new Random(seed);
        float[] x = new float[3 * size * size];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
