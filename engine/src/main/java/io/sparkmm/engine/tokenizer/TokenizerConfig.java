package io.sparkmm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * What a Hugging Face tokenizer folder says about a tokenizer, as far as inference needs it:
 * {@code tokenizer_config.json} plus the chat template wherever transformers keeps it (see
 * {@link ChatTemplateLocator}: {@code processor_config.json}, {@code chat_template.json},
 * {@code chat_template.jinja}, {@code additional_chat_templates/}, or the config itself).
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
 * @param templateTokens the special tokens a chat template sees by name, as transformers 5.x
 *     passes them ({@code special_tokens_map}): bos, eos, unk, sep, pad, cls and mask tokens that
 *     are set, plus model-specific ones ({@code image_token}, {@code boi_token}, ...) given as
 *     top-level {@code *_token} strings or in an {@code extra_special_tokens} dict
 * @param namedChatTemplates every template of a named set (tokenizer_config's list form,
 *     {@code additional_chat_templates/}); empty when the checkpoint has a single template.
 *     {@code chatTemplateSource} is the one called "default"
 */
public record TokenizerConfig(
        String bosToken,
        String eosToken,
        String padToken,
        String unkToken,
        boolean addBosToken,
        boolean cleanUpTokenizationSpaces,
        String chatTemplateSource,
        OptionalLong modelMaxLength,
        Map<String, String> templateTokens,
        Map<String, String> namedChatTemplates) {

    /** File name of the tokenizer config inside a model folder. */
    public static final String CONFIG_FILE = "tokenizer_config.json";

    /** Newer checkpoints keep the chat template in its own file; it wins over the config entry. */
    public static final String CHAT_TEMPLATE_FILE = ChatTemplateLocator.TEMPLATE_FILE;

    /** transformers' {@code SPECIAL_TOKENS_ATTRIBUTES}, the named tokens every tokenizer may have. */
    private static final List<String> NAMED_TOKENS = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token");

    public TokenizerConfig {
        modelMaxLength = modelMaxLength == null ? OptionalLong.empty() : modelMaxLength;
        templateTokens = templateTokens == null ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(templateTokens));
        namedChatTemplates = namedChatTemplates == null ? Map.of() : Map.copyOf(namedChatTemplates);
    }

    /** A config that names only the four classic special tokens and no template set. */
    public TokenizerConfig(String bosToken, String eosToken, String padToken, String unkToken, boolean addBosToken,
            boolean cleanUpTokenizationSpaces, String chatTemplateSource, OptionalLong modelMaxLength) {
        this(bosToken, eosToken, padToken, unkToken, addBosToken, cleanUpTokenizationSpaces, chatTemplateSource,
                modelMaxLength, classicTokens(bosToken, eosToken, padToken, unkToken), Map.of());
    }

    /** A config with no special tokens and no chat template, for a folder without a config file. */
    public static TokenizerConfig empty() {
        return new TokenizerConfig(null, null, null, null, false, false, null, OptionalLong.empty());
    }

    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplateSource);
    }

    /** Why {@link #chatTemplate()} is empty, for an error message. */
    public String missingChatTemplateReason() {
        if (!namedChatTemplates.isEmpty()) {
            return "its named chat templates " + new TreeMap<>(namedChatTemplates).keySet()
                    + " include none called 'default'";
        }
        return "no chat template in " + ChatTemplateLocator.SEARCHED;
    }

    /**
     * Reads {@code tokenizer_config.json} and the chat template from {@code modelDir}. A missing
     * config file gives {@link #empty()} (plus a template file, if present); a file that is not
     * valid JSON or has fields of the wrong shape fails naming the file and the field.
     */
    public static TokenizerConfig read(Path modelDir) throws IOException {
        Path configFile = modelDir.resolve(CONFIG_FILE);
        JsonNode root = Files.isRegularFile(configFile) ? ChatTemplateLocator.readJson(configFile) : null;
        TokenizerConfig config = root == null ? empty() : parse(root, configFile);
        ChatTemplateLocator.Found found = ChatTemplateLocator.find(modelDir,
                root == null ? null : root.get("chat_template"));
        return config.withChatTemplates(found.template(), found.named());
    }

    /** Parses one {@code tokenizer_config.json} file (its own chat_template entry only). */
    public static TokenizerConfig parse(Path configFile) throws IOException {
        JsonNode root = ChatTemplateLocator.readJson(configFile);
        TokenizerConfig config = parse(root, configFile);
        JsonNode entry = root.get("chat_template");
        if (entry == null || entry.isNull()) {
            return config;
        }
        ChatTemplateLocator.Found found = ChatTemplateLocator.parseEntry(entry, configFile);
        return config.withChatTemplates(found.template(), found.named());
    }

    private static TokenizerConfig parse(JsonNode root, Path configFile) throws IOException {
        return new TokenizerConfig(
                tokenString(root, "bos_token", configFile),
                tokenString(root, "eos_token", configFile),
                tokenString(root, "pad_token", configFile),
                tokenString(root, "unk_token", configFile),
                bool(root, "add_bos_token", configFile),
                bool(root, "clean_up_tokenization_spaces", configFile),
                null,
                maxLength(root, configFile),
                templateTokens(root, configFile),
                Map.of());
    }

    /** The same config with a single chat template (no named set). */
    public TokenizerConfig withChatTemplate(String source) {
        return withChatTemplates(source, Map.of());
    }

    private TokenizerConfig withChatTemplates(String source, Map<String, String> named) {
        return new TokenizerConfig(bosToken, eosToken, padToken, unkToken, addBosToken,
                cleanUpTokenizationSpaces, source, modelMaxLength, templateTokens, named);
    }

    private static Map<String, String> classicTokens(String bos, String eos, String pad, String unk) {
        Map<String, String> tokens = new LinkedHashMap<>();
        putIfSet(tokens, "bos_token", bos);
        putIfSet(tokens, "eos_token", eos);
        putIfSet(tokens, "unk_token", unk);
        putIfSet(tokens, "pad_token", pad);
        return tokens;
    }

    private static void putIfSet(Map<String, String> tokens, String name, String value) {
        if (value != null) {
            tokens.put(name, value);
        }
    }

    /**
     * transformers 5.x's {@code special_tokens_map} as it reaches a template: the named tokens that
     * are set, then model-specific {@code *_token} strings, then the {@code extra_special_tokens}
     * dict (a list there holds unnamed tokens, which no template sees). Unset tokens stay out,
     * so a template finds them undefined, as in Python.
     */
    private static Map<String, String> templateTokens(JsonNode root, Path file) throws IOException {
        Map<String, String> tokens = new LinkedHashMap<>();
        for (String name : NAMED_TOKENS) {
            putIfSet(tokens, name, tokenString(root, name, file));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (e.getKey().endsWith("_token") && !NAMED_TOKENS.contains(e.getKey())
                    && (v.isTextual() || (v.isObject() && v.path("content").isTextual()))) {
                tokens.put(e.getKey(), v.isTextual() ? v.asText() : v.get("content").asText());
            }
        }
        JsonNode extra = root.get("extra_special_tokens");
        if (extra != null && extra.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = extra.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                putIfSet(tokens, e.getKey(), tokenString(extra, e.getKey(), file));
            }
        }
        return tokens;
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
