package io.sparkmm.engine.tokenizer;

import io.sparkmm.engine.template.ChatTemplate;
import io.sparkmm.engine.template.ChatMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat mode finds the template where transformers finds it. Each layout is a small hand-made
 * folder (processor_config.json, chat_template.json, chat_template.jinja,
 * additional_chat_templates/, tokenizer_config.json in various combinations); the fixture holds
 * what transformers' processor and tokenizer load from the same files.
 */
class ChatTemplateDiscoveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path root;

    @TestFactory
    Stream<DynamicTest> everyLayoutResolvesLikeTransformers() throws IOException {
        JsonNode fixture = JSON.readTree(
                Path.of("src/test/resources/conformance/jinja2_chat_templates.json").toFile());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode layout : fixture.get("discovery")) {
            tests.add(DynamicTest.dynamicTest(layout.get("name").asText(), () -> check(layout)));
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(10);
        return tests.stream();
    }

    private void check(JsonNode layout) throws IOException {
        Path dir = Files.createDirectories(root.resolve(layout.get("name").asText()));
        for (var it = layout.get("files").fields(); it.hasNext(); ) {
            var file = it.next();
            Path path = dir.resolve(file.getKey());
            Files.createDirectories(path.getParent());
            JsonNode content = file.getValue();
            Files.writeString(path, content.isTextual() ? content.asText() : JSON.writeValueAsString(content));
        }
        if (layout.has("error")) {
            assertThatThrownBy(() -> TokenizerConfig.read(dir)).isInstanceOf(IOException.class)
                    .hasMessageContaining("chat_template.json").hasMessageContaining("additional_chat_templates");
            return;
        }
        TokenizerConfig config = TokenizerConfig.read(dir);
        JsonNode chatMode = layout.get("chat_mode");
        assertThat(config.chatTemplate())
                .isEqualTo(java.util.Optional.ofNullable(chatMode.isNull() ? null : chatMode.asText()));
        JsonNode processor = layout.get("processor");
        JsonNode tokenizer = layout.get("tokenizer");
        JsonNode source = processor.isNull() ? tokenizer : processor;
        Map<String, String> named = source.isObject()
                ? JSON.convertValue(source, new TypeReference<>() {}) : Map.of();
        assertThat(config.namedChatTemplates()).isEqualTo(named);
        if (chatMode.isNull()) {
            assertThat(config.missingChatTemplateReason())
                    .contains(named.isEmpty() ? "no chat template in" : "none called 'default'");
        }
    }

    @Test
    void aBrokenProcessorFileIsNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("chat_template.json"), "{\"template\": \"x\"}");
        assertThatThrownBy(() -> TokenizerConfig.read(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("chat_template.json").hasMessageContaining("'chat_template'");
        Files.writeString(dir.resolve("chat_template.json"), "not json");
        assertThatThrownBy(() -> TokenizerConfig.read(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("chat_template.json");
    }

    @Test
    void processorTemplateIsWhatTheMultimodalPromptUses(@TempDir Path dir) throws IOException {
        // transformers 4.57 saved a processor's template only in chat_template.json; before this,
        // chat mode found no template in such a checkpoint.
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        Files.writeString(dir.resolve("chat_template.json"), "{\"chat_template\": \"{{ messages[0].content }}\"}");
        TokenizerConfig config = TokenizerConfig.read(dir);
        assertThat(config.chatTemplate()).hasValue("{{ messages[0].content }}");
        ChatTemplate template = new ChatTemplate(config.chatTemplateSource(), config.templateTokens());
        assertThat(template.renderChat(List.of(ChatMessage.user("hi")), true)).isEqualTo("hi");
    }
}
