package io.sparkmm.engine.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model author's generation defaults from {@code generation_config.json}. Every field is null
 * (the list empty) when the file or the key is absent, so callers can tell "not said" from a value
 * and layer request options over these defaults.
 *
 * <p>{@code eosTokenIds} matters most: instruct models often stop on more ids than config.json's
 * {@code eos_token_id} lists (for example {@code <|im_end|>} and {@code <|endoftext|>}).
 */
public record GenerationConfig(List<Integer> eosTokenIds, Integer bosTokenId, Integer padTokenId,
                               Double temperature, Double topP, Integer topK) {

    public static final String FILE_NAME = "generation_config.json";

    public GenerationConfig {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    }

    /** Reads {@code dir/generation_config.json}; a missing file gives all null / empty. */
    public static GenerationConfig load(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return new GenerationConfig(List.of(), null, null, null, null, null);
        }
        JsonFields f = JsonFields.read(file);
        return new GenerationConfig(f.intListOr("eos_token_id", List.of()), f.intOrNull("bos_token_id"),
                f.intOrNull("pad_token_id"), f.doubleOrNull("temperature"), f.doubleOrNull("top_p"),
                f.intOrNull("top_k"));
    }
}
