package io.sparkmm.engine;

/**
 * One processed media item of a request: where its placeholder run sits in the prompt and the
 * tensor its encoder takes. Items with the same hash share encoder outputs and prefix-cache
 * blocks, so the hash must identify the processed content (see the processors' ContentHash).
 *
 * @param hash content hash of the processed item
 * @param modality "image", "audio" or "video"
 * @param offset first prompt position of its placeholder run
 * @param length positions in the run (= encoder output rows)
 * @param data the processed tensor, e.g. CHW pixel values
 */
public record MediaInput(String hash, String modality, int offset, int length, float[] data) {

    public MediaInput {
        if (hash == null || hash.isEmpty()) {
            throw new IllegalArgumentException("a media item needs a content hash");
        }
        if (offset < 0 || length < 1) {
            throw new IllegalArgumentException("media item " + hash + ": bad placeholder range " + offset + "+" + length);
        }
    }
}
