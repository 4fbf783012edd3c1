package io.sparkmm.engine.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.models.HfFixtures.Entry;
import io.sparkmm.engine.models.HfFixtures.Prompt;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A row priced from its image sizes alone ({@link FamilyProcessor#imageTokens},
 * {@link MultimodalProcessor#promptTokens}) must equal what Hugging Face's processor produced for
 * the same images and prompt: the fixtures' expanded input ids (their length, and the count of
 * image tokens in them) and Qwen2-VL's image_grid_thw. Plus hand-computed smart_resize cases for a
 * size and a pixel budget no fixture has.
 */
class ImageTokensTest {

    private static Backend backend;
    private static final Map<Path, LoadedModel> MODELS = new HashMap<>();

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu-reference", 1);
    }

    @AfterAll
    static void close() {
        MODELS.values().forEach(LoadedModel::close);
        backend.close();
    }

    private static LoadedModel model(Path dir) {
        return MODELS.computeIfAbsent(dir, d -> LoadedModel.open(d, backend));
    }

    private static MultimodalProcessor processor(LoadedModel m) {
        return new MultimodalProcessor(m, new ProcessorCache(1L << 20), MediaLimits.defaults());
    }

    /** LLaVA: HF expanded each {@code <image>} to a fixed count, whatever the image's size. */
    @Test
    void llavaCountsMatchTransformers() throws IOException {
        int checked = 0;
        for (Entry e : HfFixtures.all()) {
            if (!e.architecture().equals("LlavaForConditionalGeneration")) {
                continue;
            }
            LoadedModel m = model(HfFixtures.path(e.resource()));
            // our reading of the config's image token; a wrong one would count no HF token below
            int imageTokenId = m.model().processor().placeholder("image").featureTokenId();
            for (Prompt p : e.prompts()) {
                if (p.text() == null || p.images().isEmpty()) {
                    continue;
                }
                List<int[]> sizes = new ArrayList<>();
                for (String f : p.images()) {
                    sizes.add(size(HfFixtures.image(f)));
                }
                long hfImageTokens = Arrays.stream(p.inputIds()).filter(t -> t == imageTokenId).count();
                int perImage = m.model().processor().imageTokens(sizes.get(0)[0], sizes.get(0)[1], ProcessorKwargs.NONE)
                        .orElseThrow();
                assertThat((long) perImage * sizes.size()).as("%s image tokens", e).isEqualTo(hfImageTokens);
                int count = processor(m).promptTokens(PromptInput.text(p.text(), false, List.of()), sizes);
                assertThat(count).as("%s prompt '%s'", e, p.text()).isEqualTo(p.inputIds().length);
                checked++;
            }
        }
        assertThat(checked).as("LLaVA prompts with images in the fixtures").isGreaterThanOrEqualTo(4);
    }

    /** Qwen2-VL / 2.5-VL: every fixture case with images (and no video), both transformers eras. */
    @Test
    void qwen2VlCountsMatchTransformers() throws IOException {
        int checked = 0;
        for (String era : HfFixtures.ERAS) {
            JsonNode doc;
            try (InputStream in = getClass().getResourceAsStream("/hf/" + era + "/qwen2vl_fixtures.json")) {
                doc = new ObjectMapper().readTree(in);
            }
            String imageDir = doc.get("image_dir").asText();
            for (JsonNode c : doc.get("cases")) {
                if (c.get("images").isEmpty() || !c.get("videos").isEmpty()) {
                    continue;
                }
                LoadedModel m = model(HfFixtures.path("/hf/" + era + "/" + c.get("checkpoint").asText()));
                List<int[]> sizes = new ArrayList<>();
                for (JsonNode f : c.get("images")) {
                    sizes.add(size(HfFixtures.path(imageDir + "/" + f.asText())));
                }
                int merge = 2 * 2;
                for (int i = 0; i < sizes.size(); i++) {
                    JsonNode g = c.get("image_grid_thw").get(i);
                    int hf = g.get(0).asInt() * g.get(1).asInt() * g.get(2).asInt() / merge;
                    assertThat(m.model().processor().imageTokens(sizes.get(i)[0], sizes.get(i)[1], ProcessorKwargs.NONE)
                            .orElseThrow()).as("%s %s image %d", era, c.get("name").asText(), i).isEqualTo(hf);
                }
                JsonNode content = c.get("messages").get(0).get("content");
                String text = null;
                for (JsonNode entry : content) {
                    if (entry.get("type").asText().equals("text")) {
                        text = entry.get("text").asText();
                    }
                }
                int count = processor(m).promptTokens(PromptInput.text(text, true, List.of()), sizes);
                assertThat(count).as("%s %s input ids", era, c.get("name").asText()).isEqualTo(c.get("input_ids").size());
                checked++;
            }
        }
        assertThat(checked).as("Qwen2-VL image cases in the fixtures").isGreaterThanOrEqualTo(6);
    }

    /**
     * Sizes worked by hand through smart_resize (factor 28) on the tiny checkpoint, whose budget is
     * 3136..200704 pixels: 640x480 rounds to 644x476, over 200704, so it scales by
     * sqrt(307200 / 200704) and floors to 504x364: 18 * 13 = 234 tokens; with max_pixels 1003520 the
     * rounded 644x476 fits: 23 * 17 = 391; 1000x1000 overshoots 1003520 at 1008^2 and floors to
     * 980^2: 35 * 35 = 1225. An aspect ratio over 200 is refused as HF refuses it.
     */
    @Test
    void qwen2VlHandComputed() {
        FamilyProcessor p = model(HfFixtures.path("/hf/tf5/qwen2_vl_tiny")).model().processor();
        ProcessorKwargs large = new ProcessorKwargs(Map.of("max_pixels", 1003520));
        assertThat(p.imageTokens(640, 480, ProcessorKwargs.NONE)).hasValue(234);
        assertThat(p.imageTokens(640, 480, large)).hasValue(391);
        assertThat(p.imageTokens(1000, 1000, large)).hasValue(1225);
        assertThatThrownBy(() -> p.imageTokens(201, 1, ProcessorKwargs.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("aspect ratio");
        assertThatThrownBy(() -> p.imageTokens(64, 64, new ProcessorKwargs(Map.of("nope", 1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope");
    }

    private static int[] size(Path image) throws IOException {
        BufferedImage img = ImageIO.read(image.toFile());
        return new int[] {img.getWidth(), img.getHeight()};
    }
}
