package io.sparkmm.processors.cache;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One media item after its family's processor ran: the named tensors its encoder takes (for
 * example {@code pixel_values}, and for dynamic-resolution families a {@code grid}), keyed by
 * the content hash that identifies it in the processor cache, the encoder cache and the prefix
 * cache. How many prompt positions and embeddings it takes is the family's to say, from these
 * tensors.
 *
 * @param hash its {@link ContentHash}
 * @param modality "image", "audio" or "video"
 * @param tensors name -> tensor, in the order the processor produced them
 */
public record ProcessedItem(String hash, String modality, Map<String, ItemTensor> tensors) {

    public ProcessedItem {
        if (hash == null || hash.isEmpty()) {
            throw new IllegalArgumentException("a processed item needs a content hash");
        }
        if (modality == null || modality.isEmpty()) {
            throw new IllegalArgumentException("processed item " + hash + " needs a modality");
        }
        if (tensors == null || tensors.isEmpty()) {
            throw new IllegalArgumentException("processed " + modality + " " + hash + " holds no tensor");
        }
        tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** An item of one tensor. */
    public static ProcessedItem of(String hash, String modality, String name, ItemTensor tensor) {
        return new ProcessedItem(hash, modality, Map.of(name, tensor));
    }

    /** The tensor called {@code name}; fails naming the item and what it holds. */
    public ItemTensor tensor(String name) {
        ItemTensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("processed " + modality + " " + hash + " has no tensor '" + name
                    + "' (it holds " + tensors.keySet() + ")");
        }
        return t;
    }

    /** Heap bytes held, for the cache's byte bound. */
    public long bytes() {
        long b = 128 + hash.length() * 2L;
        for (Map.Entry<String, ItemTensor> e : tensors.entrySet()) {
            b += e.getValue().bytes() + 2L * e.getKey().length();
        }
        return b;
    }
}
