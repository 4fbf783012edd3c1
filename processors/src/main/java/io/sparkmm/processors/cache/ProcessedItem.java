package io.sparkmm.processors.cache;

/**
 * One media item after its processor ran: the tensor the encoder takes, and how many prompt
 * positions it occupies.
 *
 * @param hash its {@link ContentHash}
 * @param modality "image", "audio" or "video"
 * @param data the processed tensor, row-major, of {@code shape} (e.g. CHW pixel values [3, H, W])
 * @param placeholderCount prompt positions (and encoder output rows) of this item
 */
public record ProcessedItem(String hash, String modality, float[] data, int[] shape, int placeholderCount) {

    public ProcessedItem {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("processed " + modality + " data has " + data.length
                    + " values, its shape " + java.util.Arrays.toString(shape) + " needs " + n);
        }
        shape = shape.clone();
    }

    /** Heap bytes held, for the cache's byte bound. */
    public long bytes() {
        return 4L * data.length + 128 + hash.length() * 2L;
    }
}
