package io.sparkmm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a Hugging Face {@code tokenizer_config.json} (plus an optional {@code chat_template.jinja})
 * says about a tokenizer, as far as inference needs it.
 *
 * <p>Special tokens are kept as their strings; {@code null} means the config does not name one
 * (Qwen has no BOS token, for example).
 *
 * @param bosToken beginning-of-sequence token, or null
 * @param eosToken end-of-sequence token, or null
 * @param padToken padding token, or null
 * @param unkToken unknown token, or null
 * @param addBosToken {@code add_bos_token}; false when absent
 * @param cleanUpTokenizationSpaces {@code clean_up_tokenization_spaces}; false when absent, as in
 *     current Python transformers
 * @param chatTemplateSource the chat template source, or null when the tokenizer has none
 * @param modelMaxLength {@code model_max_length}; empty when absent or the "unlimited" sentinel
 *     (transformers writes 1e30 for "no limit")
 */
public record TokenizerConfig(
        String bosToken,
        String eosToken,
        String padToken,
        String unkToken,
        boolean addBosToken,
        boolean cleanUpTokenizationSpaces,
        String chatTemplateSource,
        OptionalLong modelMaxLength) {

    /** File name of the tokenizer config inside a model folder. */
    public static final String CONFIG_FILE = "tokenizer_config.json";

    /** Newer checkpoints keep the chat template in its own file; it wins over the config entry. */
    public static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

    private static final ObjectMapper JSON = new ObjectMapper();

    public TokenizerConfig {
        modelMaxLength = modelMaxLength == null ? OptionalLong.empty() : modelMaxLength;
    }

    /** A config with no special tokens and no chat template, for a folder without a config file. */
    public static TokenizerConfig empty() {
        return new TokenizerConfig(null, null, null, null, false, false, null, OptionalLong.empty());
    }

    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplateSource);
    }

    /**
     * Reads {@code tokenizer_config.json} and {@code chat_template.jinja} from {@code modelDir}.
     * A missing config file gives {@link #empty()} (plus the template file, if present); a config
     * that is not valid JSON or has fields of the wrong shape fails naming the file and the field.
     */
    public static TokenizerConfig read(Path modelDir) throws IOException {
        Path configFile = modelDir.resolve(CONFIG_FILE);
        TokenizerConfig config = Files.isRegularFile(configFile) ? parse(configFile) : empty();
        Path templateFile = modelDir.resolve(CHAT_TEMPLATE_FILE);
        if (Files.isRegularFile(templateFile)) {
            // transformers prefers the standalone file over the config's chat_template entry.
            String source = Files.readString(templateFile, StandardCharsets.UTF_8);
            config = config.withChatTemplate(source);
        }
        return config;
    }

    /** Parses one {@code tokenizer_config.json} file. */
    public static TokenizerConfig parse(Path configFile) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(configFile.toFile());
        } catch (IOException e) {
            throw new IOException("cannot read " + configFile + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(configFile + ": expected a JSON object at the top level");
        }
        return new TokenizerConfig(
                tokenString(root, "bos_token", configFile),
                tokenString(root, "eos_token", configFile),
                tokenString(root, "pad_token", configFile),
                tokenString(root, "unk_token", configFile),
                bool(root, "add_bos_token", configFile),
                bool(root, "clean_up_tokenization_spaces", configFile),
                chatTemplate(root, configFile),
                maxLength(root, configFile));
    }

    public TokenizerConfig withChatTemplate(String source) {
        return new TokenizerConfig(bosToken, eosToken, padToken, unkToken, addBosToken,
                cleanUpTokenizationSpaces, source, modelMaxLength);
    }

    /** A special token is either a plain string or an AddedToken object {@code {"content": ...}}. */
    private static String tokenString(JsonNode root, String field, Path file) throws IOException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.get("content").asText();
        }
        throw new IOException(file + ": '" + field
                + "' must be a string or an object with a string 'content', got " + node);
    }

    private static boolean bool(JsonNode root, String field, Path file) throws IOException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            throw new IOException(file + ": '" + field + "' must be true or false, got " + node);
        }
        return node.booleanValue();
    }

    /**
     * {@code chat_template} is a string, or a list of named templates of which transformers uses
     * the one called "default" when asked for no particular name.
     */
    private static String chatTemplate(JsonNode root, Path file) throws IOException {
        JsonNode node = root.get("chat_template");
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            for (JsonNode entry : node) {
                if (!entry.path("name").isTextual() || !entry.path("template").isTextual()) {
                    throw new IOException(file + ": each 'chat_template' entry needs string 'name' and"
                            + " 'template' fields, got " + entry);
                }
                if ("default".equals(entry.get("name").asText())) {
                    return entry.get("template").asText();
                }
            }
            return null;
        }
        throw new IOException(file + ": 'chat_template' must be a string or a list of"
                + " {name, template} objects, got a " + node.getNodeType());
    }

    private static OptionalLong maxLength(JsonNode root, Path file) throws IOException {
        JsonNode node = root.get("model_max_length");
        if (node == null || node.isNull()) {
            return OptionalLong.empty();
        }
        if (!node.isNumber()) {
            throw new IOException(file + ": 'model_max_length' must be a number, got " + node);
        }
        double value = node.doubleValue();
        // transformers uses int(1e30) as "no limit"; anything beyond a long is that sentinel.
        if (value >= 9.0e18 || value <= 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(node.longValue());
    }
}
