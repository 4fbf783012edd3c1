package io.sparkmm.engine.models.qwenvl;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How images reach a Qwen-VL prompt (chat mode writes Qwen-VL-Chat's "Picture N: &lt;img&gt;&lt;/img&gt;"
 * lines; a plain prompt's references are dropped and padded as vLLM does), and bad input: each
 * fails its own request with a message that names the problem, extreme image shapes work.
 */
class QwenVlPromptAndBadInputTest {

    @TempDir
    static Path dir;
    static Backend backend;
    static LoadedModel model;
    static MultimodalProcessor processor;
    static final SamplingParams GREEDY = SamplingParams.builder().temperature(0).maxTokens(3).ignoreEos(true).build();
    static final int START = TinyQwenVlCheckpoint.IMAGE_START_ID;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(TinyQwenVlCheckpoint.write(dir, TinyQwenVlCheckpoint.Spec.tiny()), backend);
        processor = QwenVlTesting.processor(model);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    /** {@code text} tokenized with each {@code <img></img>} expanded to {@code <img>}, 256 pads, {@code </img>}. */
    private static int[] expanded(String text) {
        int[] ids = model.tokenizer().encode(text, false);
        List<Integer> out = new ArrayList<>();
        for (int id : ids) {
            out.add(id);
            if (id == START) {
                for (int i = 0; i < 256; i++) {
                    out.add(START + 2);
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void chatModeWritesQwenVlChatsPictureLinesAndPadsEachImage() {
        EngineRequest r = QwenVlTesting.request(processor, "Compare them.", true,
                List.of(QwenVlTesting.image("grad90x60"), QwenVlTesting.image("dot1x1")), GREEDY);
        // qwen_generation_utils.make_context (chatml) with tokenizer.from_list_format's picture lines
        String expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                + "Picture 1: <img></img>\nPicture 2: <img></img>\nCompare them.<|im_end|>\n<|im_start|>assistant\n";
        assertThat(r.promptTokenIds()).containsExactly(expanded(expected));
        assertThat(r.media()).hasSize(2);
        for (var m : r.media()) {
            assertThat(r.promptTokenIds()[m.offset()]).isEqualTo(START);
            assertThat(m.length()).isEqualTo(257);
            assertThat(m.numEmbeddings()).isEqualTo(256);
            assertThat(r.promptTokenIds()[m.offset() + 257]).as("</img> follows the pads").isEqualTo(START + 1);
        }
        assertThat(model.eosTokenIds()).as("chatml: Qwen-VL-Chat stops at <|im_end|> too")
                .contains(TinyQwenVlCheckpoint.END_OF_TEXT_ID, TinyQwenVlCheckpoint.IM_END_ID);
    }

    @Test
    void theDefaultChatmlTemplateRendersAsJinja2Does() {
        // expected: the template rendered by Python jinja2 with transformers' settings (trim_blocks, lstrip_blocks)
        List<java.util.Map<String, Object>> messages = List.of(
                java.util.Map.of("role", "system", "content", "Be brief."),
                java.util.Map.of("role", "user", "content", "hi"),
                java.util.Map.of("role", "assistant", "content", "hello"),
                java.util.Map.of("role", "user", "content", List.of(java.util.Map.of("type", "image"),
                        java.util.Map.of("type", "text", "text", "and?"))));
        assertThat(model.tokenizer().chatTemplate().orElseThrow().render(messages, false, java.util.Map.of()))
                .isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
                        + "hello<|im_end|>\n<|im_start|>user\nPicture 1: <img></img>\nand?<|im_end|>\n");
    }

    @Test
    void aPreExpandedTokenPromptIsLocatedNotExpandedAgain() {
        EngineRequest text = QwenVlTesting.request(processor, "Picture 1: <img>a.png</img>\nHi", false,
                List.of(QwenVlTesting.image("grad90x60")), GREEDY);
        EngineRequest ids = processor.build(null, new io.sparkmm.engine.multimodal.PromptInput(null, text.promptTokenIds(),
                false, null, List.of(QwenVlTesting.image("grad90x60")), List.of(), List.of()), GREEDY);
        assertThat(ids.promptTokenIds()).containsExactly(text.promptTokenIds());
        assertThat(ids.media().get(0).offset()).isEqualTo(text.media().get(0).offset());
    }

    @Test
    void structuredOutputsWorkOverTheTiktokenVocabulary() throws Exception {
        // the constraint's token bytes come from the byte-level spelling of qwen.tiktoken's tokens
        List<String> choices = List.of("cat", "dog", "a red car", "ünïcode ✓");
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            List<RequestHandle> hs = new ArrayList<>();
            for (int seed = 1; seed <= 8; seed++) {
                hs.add(engine.submit(QwenVlTesting.request(processor, "What is it?", true, List.of(QwenVlTesting.image("grad90x60")),
                        SamplingParams.builder().temperature(1).seed((long) seed).maxTokens(12)
                                .structuredOutputs(io.sparkmm.engine.structured.StructuredOutputs.choice(choices)).build())));
            }
            for (RequestHandle h : hs) {
                EngineResult r = h.result().get();
                assertThat(r.error()).isNull();
                assertThat(choices).contains(r.text());
            }
        }
    }

    @Test
    void placeholderAndImageCountsMustAgree() {
        assertThatThrownBy(() -> QwenVlTesting.request(processor, "Picture 1: <img></img>\nPicture 2: <img></img>\nx",
                false, List.of(QwenVlTesting.image("dot1x1")), GREEDY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("<img></img>").hasMessageContaining("2");
        assertThatThrownBy(() -> QwenVlTesting.request(processor, "no reference", false,
                List.of(QwenVlTesting.image("dot1x1")), GREEDY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("<img></img>");
    }

    @Test
    void anUnclosedImageReferenceIsAnError() {
        assertThatThrownBy(() -> QwenVlTesting.request(processor, "look <img>cat.png and tell", false,
                List.of(QwenVlTesting.image("dot1x1")), GREEDY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unclosed image reference");
    }

    @Test
    void bytesThatAreNoImageNameTheFile() {
        assertThatThrownBy(() -> QwenVlTesting.request(processor, "<img></img>", false,
                List.of(MediaSource.ofBytes("broken.png", new byte[] {1, 2, 3, 4, 5})), GREEDY))
                .hasMessageContaining("broken.png");
    }

    @Test
    void oneByOneAndTwentyThousandByTwentyImagesGenerateBesideAGoodRow() throws Exception {
        List<EngineRequest> reqs = List.of(
                QwenVlTesting.request(processor, "a dot", true, List.of(QwenVlTesting.image("dot1x1")), GREEDY),
                QwenVlTesting.request(processor, "a strip", true, List.of(QwenVlTesting.image("strip20000x20")), GREEDY),
                QwenVlTesting.request(processor, "a picture", true, List.of(QwenVlTesting.image("grad90x60")), GREEDY));
        try (Engine engine = new Engine(model, EngineConfig.defaults())) {
            List<RequestHandle> hs = new ArrayList<>();
            for (EngineRequest r : reqs) {
                hs.add(engine.submit(r));
            }
            for (RequestHandle h : hs) {
                EngineResult r = h.result().get();
                assertThat(r.error()).isNull();
                assertThat(r.tokenIds()).hasSize(3);
            }
            // a token prompt whose pads outnumber its image's rows fails alone; the engine keeps serving
            int[] stray = Arrays.copyOf(reqs.get(0).promptTokenIds(), reqs.get(0).promptTokenIds().length + 1);
            stray[stray.length - 1] = START + 2;
            RequestHandle bad = engine.submit(new EngineRequest(null, stray, GREEDY, null, reqs.get(0).media()));
            RequestHandle good = engine.submit(reqs.get(2));
            assertThat(bad.result().get().error()).contains("<imgpad>").contains("outside every image");
            assertThat(good.result().get().error()).isNull();
            // a reference with no image at all: the original would fetch it; here it is that row's error
            RequestHandle noImage = engine.submit(QwenVlTesting.request(processor, "Picture 1: <img>x.png</img>\nHi", false,
                    List.of(), GREEDY));
            assertThat(noImage.result().get().error()).contains("1 <img></img> image reference but 0 images were given");
        }
    }
}
