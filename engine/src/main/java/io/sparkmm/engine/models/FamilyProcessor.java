package io.sparkmm.engine.models;

import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A family's media processor (vLLM's per-model multimodal processor): what a checkpoint does to a
 * media item before its encoder, and how the item appears in the prompt. Thread-safe: Spark
 * tasks call it concurrently, each in its own thread.
 */
public interface FamilyProcessor {

    /** The modalities it takes (empty for text-only). */
    List<String> modalities();

    /**
     * Everything in the checkpoint that changes what {@link #process} produces (the preprocessor
     * config text, the per-request overrides); it enters the content hash so cached items of
     * another configuration are never reused.
     */
    String fingerprint();

    /** Decodes and processes one item (bytes already read and hashed by the caller). */
    ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits);

    /**
     * The per-request settings ({@code mm_processor_kwargs}) this processor accepts, e.g.
     * min_pixels and max_pixels for Qwen2-VL; none by default.
     */
    default Set<String> processorKwargs() {
        return Set.of();
    }

    /**
     * {@link #process(String, String, MediaSource, MediaLimits)} with per-request settings, whose
     * keys the caller has checked against {@link #processorKwargs()} and put into the hash.
     */
    default ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits,
                                  ProcessorKwargs kwargs) {
        if (!kwargs.isEmpty()) {
            throw new IllegalArgumentException("mm_processor_kwargs " + kwargs.values() + " given, but this model's"
                    + " processor takes no per-request settings");
        }
        return process(hash, modality, bytes, limits);
    }

    /**
     * Checks the number of items of each modality in one prompt before any is processed; throws
     * IllegalArgumentException (that request's error) for a combination the family cannot process
     * as HF does. Every count is accepted by default.
     */
    default void checkItemCounts(Map<String, Integer> counts) {
    }

    /**
     * Settings that the prompt's item counts imply for its items of {@code modality}, merged over the
     * request's {@code mm_processor_kwargs} before each such item is processed or counted (so they key
     * the processor cache too). LLaVA-OneVision processes an image differently when its prompt has
     * several. None by default.
     */
    default ProcessorKwargs promptSettings(String modality, Map<String, Integer> counts) {
        return ProcessorKwargs.NONE;
    }

    /** The placeholder the user writes for a modality, and its token id after tokenization. */
    PromptReplacement placeholder(String modality);

    /** What one item's placeholder becomes: tokens and is-embed mask (its size may depend on the item). */
    ItemReplacement replacement(ProcessedItem item);

    /**
     * How many tokens the placeholder of one image of {@code width} x {@code height} pixels becomes
     * (the length of its {@link #replacement}), from the size alone, without decoding: what lets a
     * caller price a row before reading its pixels (the connector's token-aware partitions). Empty
     * when the family cannot tell from the size; {@code kwargs} are the request's settings, already
     * checked against {@link #processorKwargs()}.
     */
    default OptionalInt imageTokens(int width, int height, ProcessorKwargs kwargs) {
        return OptionalInt.empty();
    }

    /**
     * How many tokens the placeholder of one audio clip of {@code samples} samples at the clip's
     * {@code sampleRate} becomes, from its length alone, without decoding (the audio counterpart of
     * {@link #imageTokens}). Empty when the family cannot tell from the length.
     */
    default OptionalInt audioTokens(long samples, int sampleRate, ProcessorKwargs kwargs) {
        return OptionalInt.empty();
    }

    /** The entry of a chat message's content list that stands for one item (HF's form, e.g. {"type": "image"}). */
    default Map<String, Object> chatContentEntry(String modality) {
        return Map.of("type", modality);
    }

    /** A processor for a text-only model. */
    FamilyProcessor TEXT_ONLY = new FamilyProcessor() {
        @Override
        public List<String> modalities() {
            return List.of();
        }

        @Override
        public String fingerprint() {
            return "";
        }

        @Override
        public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits) {
            throw new IllegalArgumentException("this model is text-only; it cannot take " + modality);
        }

        @Override
        public PromptReplacement placeholder(String modality) {
            throw new IllegalArgumentException("this model is text-only; it cannot take " + modality);
        }

        @Override
        public ItemReplacement replacement(ProcessedItem item) {
            throw new IllegalArgumentException("this model is text-only; it cannot take " + item.modality());
        }
    };
}
