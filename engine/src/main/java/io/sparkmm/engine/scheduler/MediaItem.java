package io.sparkmm.engine.scheduler;

import java.util.Objects;

/**
 * One multimodal item of a request as the scheduler sees it: where its placeholder tokens sit in
 * the prompt and how many encoder output rows it needs. The content hash identifies the processed
 * item across requests: it keys the encoder cache and enters the prefix-cache block hashes.
 *
 * @param index position of the item within its request (0-based, unique per request)
 * @param hash content hash of the processed item
 * @param offset first prompt position of its placeholder range
 * @param length positions in the placeholder range
 * @param numEmbeddings rows the encoder produces, i.e. positions that receive embeddings; equal to
 *     {@code length} when every position of the range is embedded, fewer when the family's
 *     replacement adds start, end or newline tokens. Encoder budget and encoder cache space are counted in these rows.
 */
public record MediaItem(int index, String hash, int offset, int length, int numEmbeddings) {
    public MediaItem {
        Objects.requireNonNull(hash, "hash");
        if (index < 0) {
            throw new IllegalArgumentException("media item index must be >= 0, got " + index);
        }
        if (offset < 0 || length < 1) {
            throw new IllegalArgumentException("media item " + index + " (" + hash + "): placeholder range at "
                    + offset + " of length " + length + " is empty or negative");
        }
        // More rows than placeholder positions could not be merged into the prompt.
        if (numEmbeddings < 1 || numEmbeddings > length) {
            throw new IllegalArgumentException("media item " + index + " (" + hash + "): numEmbeddings "
                    + numEmbeddings + " must be in [1, length " + length + "]");
        }
    }

    /** One past the last position of the placeholder range. */
    public int end() {
        return offset + length;
    }

    /** Whether the placeholder range overlaps positions [start, end). */
    public boolean overlaps(int start, int end) {
        return offset < end && offset + length > start;
    }
}
