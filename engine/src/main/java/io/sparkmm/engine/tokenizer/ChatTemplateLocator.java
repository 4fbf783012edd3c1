package io.sparkmm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds a checkpoint's chat template where Hugging Face transformers 5.x finds it, processor
 * first (as vLLM resolves a chat prompt: {@code AutoProcessor}'s template, then
 * {@code AutoTokenizer}'s), the first of these that has one:
 *
 * <ol>
 *   <li>{@code processor_config.json} key {@code chat_template} (transformers 5.x lets it win over
 *       the files below; 4.57 let the files win, which only matters when a checkpoint has both);
 *   <li>{@code chat_template.json}, the legacy processor file {@code {"chat_template": "..."}}
 *       (4.4x-4.57 {@code save_pretrained} of a processor); it wins over {@code chat_template.jinja},
 *       and combined with {@code additional_chat_templates/} transformers refuses the checkpoint;
 *   <li>{@code chat_template.jinja} (named "default") plus {@code additional_chat_templates/*.jinja}
 *       (named by file name), read alike by processor and tokenizer; when any exists, the
 *       tokenizer config's entry is ignored entirely;
 *   <li>{@code tokenizer_config.json} key {@code chat_template}: a string, or a list of
 *       {@code {name, template}}.
 * </ol>
 *
 * A set of named templates resolves to the one called "default" (transformers picks
 * "tool_use" instead only when tools are passed, which the engine does not do); without a
 * "default" there is no template, as transformers then refuses to guess.
 *
 * <p>{@code chat_template.json} and {@code processor_config.json} are consulted for every
 * checkpoint: only a processor's {@code save_pretrained} writes them, so their presence means
 * the checkpoint has the processor that {@code AutoProcessor} would load.
 */
final class ChatTemplateLocator {

    static final String PROCESSOR_CONFIG_FILE = "processor_config.json";
    static final String LEGACY_PROCESSOR_FILE = "chat_template.json";
    static final String TEMPLATE_FILE = "chat_template.jinja";
    static final String TEMPLATE_DIR = "additional_chat_templates";

    /** Where a missing template was looked for, for error messages. */
    static final String SEARCHED = PROCESSOR_CONFIG_FILE + ", " + LEGACY_PROCESSOR_FILE + ", " + TEMPLATE_FILE
            + ", " + TEMPLATE_DIR + "/, " + TokenizerConfig.CONFIG_FILE;

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What was found: the template to use (null when none resolves) and every named template
     * (empty when the source held a single unnamed one).
     */
    record Found(String template, Map<String, String> named) {
        Found {
            named = Map.copyOf(named);
        }

        static final Found NONE = new Found(null, Map.of());

        static Found single(String template) {
            return new Found(template, Map.of());
        }

        static Found named(Map<String, String> templates) {
            if (templates.size() == 1 && templates.containsKey("default")) {
                return single(templates.get("default"));
            }
            return new Found(templates.get("default"), templates);
        }
    }

    private ChatTemplateLocator() {}

    /**
     * @param tokenizerConfigEntry the {@code chat_template} node of tokenizer_config.json, or null
     */
    static Found find(Path dir, JsonNode tokenizerConfigEntry) throws IOException {
        Path processorConfig = dir.resolve(PROCESSOR_CONFIG_FILE);
        if (Files.isRegularFile(processorConfig)) {
            JsonNode node = readJson(processorConfig).get("chat_template");
            if (node != null && !node.isNull()) {
                return parseEntry(node, processorConfig);
            }
        }
        Map<String, String> files = templateDir(dir);
        Path legacy = dir.resolve(LEGACY_PROCESSOR_FILE);
        if (Files.isRegularFile(legacy)) {
            if (!files.isEmpty()) {
                throw new IOException(dir + ": " + LEGACY_PROCESSOR_FILE + " together with " + TEMPLATE_DIR
                        + "/ is refused by transformers as conflicting; replace " + LEGACY_PROCESSOR_FILE
                        + " with " + TEMPLATE_FILE);
            }
            JsonNode node = readJson(legacy).get("chat_template");
            if (node == null || node.isNull()) {
                throw new IOException(legacy + ": expected a 'chat_template' entry");
            }
            return parseEntry(node, legacy);
        }
        Path jinja = dir.resolve(TEMPLATE_FILE);
        if (Files.isRegularFile(jinja)) {
            files.put("default", Files.readString(jinja, StandardCharsets.UTF_8));
        }
        if (!files.isEmpty()) {
            return Found.named(files);
        }
        if (tokenizerConfigEntry == null || tokenizerConfigEntry.isNull()) {
            return Found.NONE;
        }
        return parseEntry(tokenizerConfigEntry, dir.resolve(TokenizerConfig.CONFIG_FILE));
    }

    /** A {@code chat_template} value: a string, or a list of {@code {name, template}} objects. */
    static Found parseEntry(JsonNode node, Path file) throws IOException {
        if (node.isTextual()) {
            return Found.single(node.asText());
        }
        if (node.isArray()) {
            Map<String, String> named = new LinkedHashMap<>();
            for (JsonNode entry : node) {
                if (!entry.path("name").isTextual() || !entry.path("template").isTextual()) {
                    throw new IOException(file + ": each 'chat_template' entry needs string 'name' and"
                            + " 'template' fields, got " + entry);
                }
                named.put(entry.get("name").asText(), entry.get("template").asText());
            }
            return Found.named(named);
        }
        throw new IOException(file + ": 'chat_template' must be a string or a list of"
                + " {name, template} objects, got a " + node.getNodeType());
    }

    /** {@code additional_chat_templates/NAME.jinja}, by name; sorted so the result is stable. */
    private static Map<String, String> templateDir(Path dir) throws IOException {
        Map<String, String> named = new TreeMap<>();
        Path templates = dir.resolve(TEMPLATE_DIR);
        if (!Files.isDirectory(templates)) {
            return named;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(templates, "*.jinja")) {
            for (Path f : files) {
                if (Files.isRegularFile(f)) {
                    String name = f.getFileName().toString();
                    named.put(name.substring(0, name.length() - ".jinja".length()),
                            Files.readString(f, StandardCharsets.UTF_8));
                }
            }
        }
        return named;
    }

    /** A JSON file whose top level must be an object; errors name the file. */
    static JsonNode readJson(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object at the top level");
        }
        return root;
    }
}
