package io.sparkmm.examples;

import io.sparkmm.engine.checkpoint.ModelLocation;
import io.sparkmm.engine.tokenizer.HfTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped default model (trained in PyTorch by examples/src/main/python/train_default_model.py)
 * run by the Java engine on images drawn here with Java2D, a renderer it never saw in training, from
 * a seed of its own: every prompt type must be answered exactly for at least 98% of the images.
 * This checks the whole chain the trainer had to match: config and safetensors loading, the
 * word-level tokenizer and chat template, the CLIP preprocessing, and the forward itself.
 */
class DefaultModelAccuracyTest {

    static final long SEED = 0x5EED_2026L;
    static final double MIN_ACCURACY = 0.98;

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void findModel() {
        model = ModelLocation.resolve(DefaultModel.LOCATION);
        assertThat(model.resolve("model.safetensors")).as("default-model on the classpath").isRegularFile();
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

    /**
     * The Java forward pass on the trained weights: every question type is answered exactly on at
     * least 98% of fresh Java2D images (any wrong stage — preprocessing, placeholder expansion,
     * vision tower, projector, decoder — drops them).
     */
    @Test
    void everyQuestionTypeIsAnsweredExactlyThroughTheJavaEngine() throws Exception {
        int images = 100;
        int[] correct = EvaluateDefaultModel.evaluate(model, dir, images, SEED);
        for (int p = 0; p < correct.length; p++) {
            assertThat((double) correct[p] / images).as(ShapeImages.PROMPTS.get(p)).isGreaterThanOrEqualTo(MIN_ACCURACY);
        }
    }
}
