package io.sparkmm.engine;

import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.prompt.PlaceholderRange;

/**
 * One processed media item of a request and where its placeholder run sits in the prompt. Items
 * with the same hash share encoder outputs and prefix-cache blocks, so the hash must identify the
 * processed content (see the processors' ContentHash).
 *
 * @param item the processed item: content hash, modality, named tensors
 * @param placeholder its prompt positions and which of them take encoder rows
 */
public record MediaInput(ProcessedItem item, PlaceholderRange placeholder) {

    public MediaInput {
        if (item == null || placeholder == null) {
            throw new IllegalArgumentException("a media input needs its processed item and its placeholder range");
        }
    }

    public String hash() {
        return item.hash();
    }

    public String modality() {
        return item.modality();
    }

    /** First prompt position of its placeholder run. */
    public int offset() {
        return placeholder.offset();
    }

    /** Positions in the run. */
    public int length() {
        return placeholder.length();
    }

    /** Encoder output rows it takes (positions of the run flagged is-embed). */
    public int numEmbeddings() {
        return placeholder.numEmbeddings();
    }

    public ItemTensor tensor(String name) {
        return item.tensor(name);
    }
}
