package io.sparkmm.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerConfigTest {

    @TempDir Path dir;

    private TokenizerConfig read(String json) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), json);
        return TokenizerConfig.read(dir);
    }

    @Test
    void specialTokensAsStringsOrAddedTokenObjects() throws IOException {
        TokenizerConfig c = read("{\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<s>\","
                + " \"lstrip\": false}, \"eos_token\": \"</s>\", \"pad_token\": null,"
                + " \"add_bos_token\": true, \"model_max_length\": 4096}");
        assertThat(c.bosToken()).isEqualTo("<s>");
        assertThat(c.eosToken()).isEqualTo("</s>");
        assertThat(c.padToken()).isNull();
        assertThat(c.unkToken()).isNull();
        assertThat(c.addBosToken()).isTrue();
        assertThat(c.modelMaxLength()).hasValue(4096);
        assertThat(c.chatTemplate()).isEmpty();
    }

    @Test
    void templateTokensAreTransformersSpecialTokensMap() throws IOException {
        // transformers 5.18 gives {'bos_token': '<s>', 'eos_token': '</s>', 'sep_token': '<sep>',
        // 'image_token': '<image>', 'video_token': '<video>', 'boi_token': '<boi>'} for this config
        TokenizerConfig c = read("{\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<s>\"},"
                + " \"eos_token\": \"</s>\", \"sep_token\": \"<sep>\", \"mask_token\": null,"
                + " \"image_token\": {\"__type\": \"AddedToken\", \"content\": \"<image>\"},"
                + " \"video_token\": \"<video>\", \"audio_token\": 5, \"foo_token\": null, \"add_bos_token\": true,"
                + " \"extra_special_tokens\": {\"boi_token\": \"<boi>\"}, \"additional_special_tokens\": [\"<x>\"]}");
        assertThat(c.templateTokens()).containsExactlyInAnyOrderEntriesOf(Map.of("bos_token", "<s>",
                "eos_token", "</s>", "sep_token", "<sep>", "image_token", "<image>", "video_token", "<video>",
                "boi_token", "<boi>"));
    }

    @Test
    void unlimitedModelMaxLengthIsEmpty() throws IOException {
        assertThat(read("{\"model_max_length\": 1000000000000000019884624838656}").modelMaxLength())
                .isEmpty();
    }

    @Test
    void namedTemplatesPickDefault() throws IOException {
        TokenizerConfig c = read("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"},"
                + " {\"name\": \"default\", \"template\": \"D\"}]}");
        assertThat(c.chatTemplate()).hasValue("D");
    }

    @Test
    void chatTemplateFileWins() throws IOException {
        Files.writeString(dir.resolve("chat_template.jinja"), "FROM FILE");
        assertThat(read("{\"chat_template\": \"FROM CONFIG\"}").chatTemplate()).hasValue("FROM FILE");
    }

    @Test
    void missingConfigIsEmpty() throws IOException {
        assertThat(TokenizerConfig.read(dir)).isEqualTo(TokenizerConfig.empty());
    }

    @Test
    void brokenFilesAreNamed() {
        assertThatThrownBy(() -> read("{not json"))
                .isInstanceOf(IOException.class).hasMessageContaining("tokenizer_config.json");
        assertThatThrownBy(() -> read("{\"eos_token\": 3}"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("tokenizer_config.json").hasMessageContaining("eos_token");
        assertThatThrownBy(() -> read("{\"chat_template\": 5}"))
                .isInstanceOf(IOException.class).hasMessageContaining("chat_template");
    }
}
