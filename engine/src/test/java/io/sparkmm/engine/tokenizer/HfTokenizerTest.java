package io.sparkmm.engine.tokenizer;

import io.sparkmm.engine.template.ChatMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hand-written word-level tokenizer with a BOS post-processor, in the real HF file layout. */
class HfTokenizerTest {

    private static final String TOKENIZER_JSON = """
            {"version": "1.0", "truncation": null, "padding": null,
              "added_tokens": [
                  {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
                    "normalized": false, "special": true},
                  {"id": 5, "content": "<tool>", "single_word": false, "lstrip": false, "rstrip": false,
                    "normalized": false, "special": false}],
              "normalizer": null,
              "pre_tokenizer": {"type": "Whitespace"},
              "post_processor": {"type": "TemplateProcessing",
                  "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}}],
                  "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                  "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}},
              "decoder": null,
              "model": {"type": "WordLevel",
                  "vocab": {"<s>": 0, "<unk>": 1, "hello": 2, "world": 3, "!": 4},
                  "unk_token": "<unk>"}}
            """;

    @TempDir Path dir;

    private HfTokenizer load() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), TOKENIZER_JSON);
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<s>\", \"add_bos_token\": true,"
                        + " \"chat_template\": \"{{ bos_token }}{{ messages[0].content }}\"}");
        return HfTokenizer.load(dir);
    }

    @Test
    void encodesWithAndWithoutSpecialTokens() throws IOException {
        try (HfTokenizer t = load()) {
            assertThat(t.encode("hello world !", false)).containsExactly(2, 3, 4);
            assertThat(t.encode("hello world !", true)).containsExactly(0, 2, 3, 4);
            assertThat(t.encode("hello<tool>world", false)).containsExactly(2, 5, 3);
            assertThat(t.encode("", false)).isEmpty();
        }
    }

    @Test
    void neverTruncatesOrPads() throws IOException {
        try (HfTokenizer t = load()) {
            String text = "hello ".repeat(2000);
            assertThat(t.encode(text, false)).hasSize(2000);
            assertThat(t.encode("hello", false)).hasSize(1);
        }
    }

    @Test
    void decodesAndSkipsSpecialTokens() throws IOException {
        try (HfTokenizer t = load()) {
            assertThat(t.decode(new int[] {0, 2, 3}, false)).isEqualTo("<s> hello world");
            assertThat(t.decode(new int[] {0, 2, 3}, true)).isEqualTo("hello world");
            assertThat(t.decode(new int[0], true)).isEmpty();
        }
    }

    /** The tokenizers library's own behaviour, which QwenTiktoken follows for ids past its table. */
    @Test
    void idsPastTheVocabularyDecodeToNothing() throws IOException {
        try (HfTokenizer t = load()) {
            assertThat(t.decode(new int[] {2, 6, 3, 1000}, true)).isEqualTo(t.decode(new int[] {2, 3}, true))
                    .isEqualTo("hello world");
            assertThat(t.decode(new int[] {6}, false)).isEmpty();
            assertThatThrownBy(() -> t.decode(new int[] {2, -1}, true)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-1");
        }
    }

    @Test
    void vocabularyIncludesAddedTokens() throws IOException {
        try (HfTokenizer t = load()) {
            assertThat(t.vocabSize()).isEqualTo(6);
            assertThat(t.tokenId("world")).hasValue(3);
            assertThat(t.tokenId("<tool>")).hasValue(5);
            assertThat(t.tokenId("nope")).isEmpty();
            assertThat(t.token(2)).isEqualTo("hello");
            assertThat(t.token(99)).isNull();
            assertThat(t.isSpecial(0)).isTrue();
            assertThat(t.isSpecial(5)).isFalse();
        }
    }

    @Test
    void configAndChatTemplate() throws IOException {
        try (HfTokenizer t = load()) {
            assertThat(t.config().bosToken()).isEqualTo("<s>");
            assertThat(t.chatTemplate().orElseThrow()
                    .renderChat(java.util.List.of(ChatMessage.user("hello")), false))
                    .isEqualTo("<s>hello");
        }
    }

    @Test
    void missingOrBrokenFilesAreNamed() throws IOException {
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(IOException.class).hasMessageContaining("tokenizer.json");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(IOException.class).hasMessageContaining("tokenizer.json");
        Files.writeString(dir.resolve("tokenizer.json"), TOKENIZER_JSON);
        Files.writeString(dir.resolve("tokenizer_config.json"), "[1, 2");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(IOException.class).hasMessageContaining("tokenizer_config.json");
    }
}
