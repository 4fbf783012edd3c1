package io.sparkmm.processors.prompt;

/**
 * The declarative prompt update of one modality of a model family: each occurrence of the
 * placeholder (a token id after tokenization, or a text string before it) stands for one media
 * item and becomes {@code count} copies of {@code featureTokenId}, where count is the item's
 * placeholder count (e.g. LLaVA-1.5: (image / patch)^2 = 576).
 *
 * @param modality "image", "audio" or "video", for messages
 * @param placeholderText the text the user writes, e.g. "&lt;image&gt;"
 * @param placeholderTokenId its token id
 * @param featureTokenId the token repeated in the expanded prompt (often the same id)
 */
public record PromptReplacement(String modality, String placeholderText, int placeholderTokenId, int featureTokenId) {

    public PromptReplacement {
        if (modality == null || placeholderText == null || placeholderText.isEmpty()) {
            throw new IllegalArgumentException("a prompt replacement needs a modality and a placeholder text");
        }
    }
}
