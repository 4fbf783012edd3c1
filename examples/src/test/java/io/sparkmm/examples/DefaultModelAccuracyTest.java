package io.sparkmm.examples;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.generate.FinishReason;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.tokenizer.HfTokenizer;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped default model (trained in PyTorch by examples/src/main/python/train_default_model.py)
 * run by the Java engine on images drawn here with Java2D, a renderer it never saw in training, from
 * a seed of its own: every prompt type must be answered exactly for at least 98% of the images.
 * This checks the whole chain the trainer had to match: config and safetensors loading, the
 * word-level tokenizer and chat template, the CLIP preprocessing, and the forward itself.
 */
class DefaultModelAccuracyTest {

    static final int IMAGES = 200;
    static final long SEED = 0x5EED_2026L;
    static final double MIN_ACCURACY = 0.98;

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void findModel() throws Exception {
        URL config = DefaultModelAccuracyTest.class.getResource("/default-model/config.json");
        assertThat(config).as("default-model on the classpath").isNotNull();
        model = Path.of(config.toURI()).getParent();
    }

    @Test
    void theWordLevelTokenizerRoundTripsAnAnswer() throws Exception {
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            String text = "a red circle on a white background";
            int[] ids = tok.encode(text, false);
            assertThat(ids).hasSize(7);
            assertThat(tok.decode(ids, true)).isEqualTo(text);
            // The chat prompt must come out as the training script's prompt_ids(): the template's
            // "USER: <image>\n{text} ASSISTANT:", <image> a special token, the rest split on whitespace.
            List<Map<String, Object>> content = List.of(Map.of("type", "image"),
                    Map.of("type", "text", "text", "What shape is this?"));
            String rendered = tok.chatTemplate().orElseThrow()
                    .render(List.of(Map.of("role", "user", "content", content)), true, Map.of());
            int[] prompt = tok.encode(rendered, false);
            String[] words = {"USER:", "<image>", "What", "shape", "is", "this?", "ASSISTANT:"};
            int[] expected = new int[words.length];
            for (int i = 0; i < words.length; i++) {
                expected[i] = tok.tokenId(words[i]).orElseThrow();
            }
            assertThat(prompt).as(rendered).containsExactly(expected);
            assertThat(tok.tokenId("</s>")).isPresent();
        }
    }

    @Test
    void answersJava2dImagesExactly() throws Exception {
        Random rnd = new Random(SEED);
        List<ShapeImages.Example> examples = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            ShapeImages.Example e = ShapeImages.random(rnd);
            Path f = dir.resolve(String.format("shape-%03d.png", i));
            e.writePng(f);
            examples.add(e);
            files.add(f);
        }
        int prompts = ShapeImages.PROMPTS.size();
        int[] correct = new int[prompts];
        List<String> misses = new ArrayList<>();
        long start = System.nanoTime();
        try (Backend backend = Backends.createDefault(); LoadedModel loaded = LoadedModel.open(model, backend);
             Engine engine = new Engine(loaded, EngineConfig.defaults())) {
            MultimodalProcessor mm = new MultimodalProcessor(loaded, new ProcessorCache(1L << 28), MediaLimits.defaults());
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(12).build();
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < IMAGES; i++) {
                for (int p = 0; p < prompts; p++) {
                    handles.add(engine.submit(mm.build(null, PromptInput.text(ShapeImages.PROMPTS.get(p), true,
                            List.of(MediaSource.ofPath(files.get(i).toString()))), greedy)));
                }
            }
            for (int i = 0; i < IMAGES; i++) {
                for (int p = 0; p < prompts; p++) {
                    EngineResult r = handles.get(i * prompts + p).result().get();
                    assertThat(r.ok()).as(r.error()).isTrue();
                    String want = examples.get(i).answer(p);
                    String got = r.text().strip();
                    if (got.equals(want) && r.finishReason() == FinishReason.STOP) {
                        correct[p]++;
                    } else if (misses.size() < 20) {
                        ShapeImages.Example e = examples.get(i);
                        misses.add(String.format("%s %dx%d: \"%s\" -> \"%s\" (%s, want \"%s\")", files.get(i).getFileName(),
                                e.image().getWidth(), e.image().getHeight(), ShapeImages.PROMPTS.get(p), got,
                                r.finishReason(), want));
                    }
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("default model on %d Java2D images (seed %d), greedy, %.1f s:%n", IMAGES, SEED, seconds);
        System.out.printf("| %-32s | %9s | %8s |%n", "prompt", "correct", "accuracy");
        for (int p = 0; p < prompts; p++) {
            System.out.printf("| %-32s | %4d/%4d | %7.1f%% |%n", ShapeImages.PROMPTS.get(p), correct[p], IMAGES,
                    100.0 * correct[p] / IMAGES);
        }
        misses.forEach(m -> System.out.println("  miss: " + m));
        for (int p = 0; p < prompts; p++) {
            assertThat((double) correct[p] / IMAGES).as(ShapeImages.PROMPTS.get(p)).isGreaterThanOrEqualTo(MIN_ACCURACY);
        }
    }
}
