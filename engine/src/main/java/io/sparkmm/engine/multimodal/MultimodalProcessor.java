package io.sparkmm.engine.multimodal;

import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.template.ChatTemplate;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ContentHash;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PlaceholderRange;
import io.sparkmm.processors.prompt.PromptUpdater;
import io.sparkmm.processors.prompt.UpdatedPrompt;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link PromptInput} into an {@link EngineRequest} in the caller's thread (a Spark task),
 * so preprocessing runs in parallel across tasks and never in the engine loop: read each item's
 * bytes, look it up in the processor cache by content hash (the family's processor runs on a
 * miss), render the chat template with the family's content entry per item, tokenize, and
 * replace each placeholder by the family's replacement for that item (its range and is-embed
 * mask). Any problem with the input throws an IllegalArgumentException (or a media error) naming
 * the item; the caller fails that row only. Knows no family: the model's {@link FamilyProcessor}
 * says everything family-specific.
 */
public final class MultimodalProcessor {

    private static final List<String> MODALITY_ORDER = List.of("image", "audio", "video");

    private final LoadedModel model;
    private final FamilyProcessor family;
    private final ProcessorCache cache;
    private final MediaLimits limits;
    private final String modelId;

    public MultimodalProcessor(LoadedModel model, ProcessorCache cache, MediaLimits limits) {
        this.model = model;
        this.family = model.model().processor();
        this.cache = cache;
        this.limits = limits;
        this.modelId = model.checkpoint().directory().toAbsolutePath().normalize().toString();
    }

    public EngineRequest build(String requestId, PromptInput input, SamplingParams sampling) {
        Map<String, List<MediaSource>> byModality = new LinkedHashMap<>();
        byModality.put("image", input.images());
        byModality.put("audio", input.audio());
        byModality.put("video", input.video());
        Map<String, List<ProcessedItem>> items = new LinkedHashMap<>();
        input.processorKwargs().requireOnly(family.processorKwargs(), "the processor of " + modelId);
        Map<String, Integer> given = new LinkedHashMap<>();
        byModality.forEach((modality, list) -> {
            if (!list.isEmpty()) {
                given.put(modality, list.size());
            }
        });
        family.checkItemCounts(given);
        for (Map.Entry<String, List<MediaSource>> e : byModality.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            if (!family.modalities().contains(e.getKey())) {
                throw new IllegalArgumentException("the model in " + modelId + " takes "
                        + (family.modalities().isEmpty() ? "text only" : String.join(", ", family.modalities()) + " (and text)")
                        + "; " + e.getKey() + " inputs are not supported by it");
            }
            List<ProcessedItem> processed = new ArrayList<>();
            for (MediaSource src : e.getValue()) {
                processed.add(process(e.getKey(), src,
                        input.processorKwargs().overriddenBy(family.promptSettings(e.getKey(), given))));
            }
            items.put(e.getKey(), processed);
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        items.forEach((modality, list) -> counts.put(modality, list.size()));
        int[] ids = tokens(input, counts);
        if (items.isEmpty()) {
            return new EngineRequest(requestId, ids, sampling, null, List.of());
        }
        List<MediaInput> media = new ArrayList<>();
        for (Map.Entry<String, List<ProcessedItem>> e : items.entrySet()) {
            List<ItemReplacement> replacements = e.getValue().stream().map(family::replacement).toList();
            UpdatedPrompt updated = PromptUpdater.applyToTokens(ids, family.placeholder(e.getKey()), replacements);
            media = shifted(media, ids, updated);
            for (int i = 0; i < e.getValue().size(); i++) {
                media.add(new MediaInput(e.getValue().get(i), updated.ranges().get(i)));
            }
            ids = updated.tokenIds();
        }
        media.sort(Comparator.comparingInt(MediaInput::offset));
        return new EngineRequest(requestId, ids, sampling, null, media);
    }

    /**
     * Earlier modalities' ranges moved to where they sit after this modality's placeholders grew:
     * each expansion before a range shifts it by the expansion's growth.
     */
    private static List<MediaInput> shifted(List<MediaInput> earlier, int[] before, UpdatedPrompt after) {
        if (earlier.isEmpty() || before.length == after.tokenIds().length) {
            return new ArrayList<>(earlier);
        }
        List<MediaInput> out = new ArrayList<>();
        for (MediaInput m : earlier) {
            int shift = 0;
            int growth = 0;
            for (PlaceholderRange r : after.ranges()) {
                int placeholderAt = r.offset() - growth; // where its single placeholder token sat before
                if (placeholderAt < m.offset()) {
                    shift += r.length() - 1;
                }
                growth += r.length() - 1;
            }
            out.add(new MediaInput(m.item(), m.placeholder().at(m.offset() + shift)));
        }
        return out;
    }

    private ProcessedItem process(String modality, MediaSource src, ProcessorKwargs kwargs) {
        byte[] bytes = src.bytes(limits);
        // the settings change the output (Qwen2-VL's pixel budget changes the grid), so they key the cache
        String hash = ContentHash.of(modelId, modality, family.fingerprint() + kwargs.canonical(), bytes);
        return cache.get(hash, () -> family.process(hash, modality, MediaSource.ofBytes(src.name(), bytes), limits, kwargs));
    }

    /**
     * The prompt length {@link #build} would give {@code input} (text or chat, images only) when its
     * images have these sizes ({width, height} each); see {@link #promptTokens(PromptInput, List, List)}.
     */
    public int promptTokens(PromptInput input, List<int[]> imageSizes) {
        return promptTokens(input, imageSizes, List.of());
    }

    /**
     * The prompt length {@link #build} would give {@code input} (text or chat) when its images have
     * these sizes ({width, height} each) and its audio clips these lengths ({samples, sample rate}
     * each), without reading or decoding them: the rendered prompt's tokens, with each placeholder
     * counted as the family's {@link FamilyProcessor#imageTokens} or {@link FamilyProcessor#audioTokens}
     * for that item. Lets a caller price a row before its media are read (token-aware partitions,
     * rows that cannot fit the context). A null size or length (not known) counts its placeholder as
     * one token, so the result is then a lower bound.
     *
     * @throws IllegalArgumentException when the model takes no such media, a setting is not the
     *     processor's, or the size is one the processor refuses
     * @throws UnsupportedOperationException when the model's family cannot count an item's tokens from its size
     */
    public int promptTokens(PromptInput input, List<int[]> imageSizes, List<long[]> audioLengths) {
        input.processorKwargs().requireOnly(family.processorKwargs(), "the processor of " + modelId);
        if (!input.images().isEmpty() || !input.audio().isEmpty() || !input.video().isEmpty()) {
            throw new IllegalArgumentException("give the media as sizes, not as media sources");
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        if (!imageSizes.isEmpty()) {
            requireModality("image", "images");
            counts.put("image", imageSizes.size());
        }
        if (!audioLengths.isEmpty()) {
            requireModality("audio", "audio");
            counts.put("audio", audioLengths.size());
        }
        int expansion = 0;
        ProcessorKwargs imageKwargs = input.processorKwargs().overriddenBy(family.promptSettings("image", counts));
        for (int[] size : imageSizes) {
            if (size != null) {
                int n = family.imageTokens(size[0], size[1], imageKwargs)
                        .orElseThrow(() -> cannotCount("an image's tokens from its size"));
                expansion += n - 1;   // the placeholder's one token becomes n
            }
        }
        ProcessorKwargs audioKwargs = input.processorKwargs().overriddenBy(family.promptSettings("audio", counts));
        for (long[] length : audioLengths) {
            if (length != null) {
                int n = family.audioTokens(length[0], (int) length[1], audioKwargs)
                        .orElseThrow(() -> cannotCount("a clip's tokens from its length"));
                expansion += n - 1;
            }
        }
        return tokens(input, counts).length + expansion;
    }

    private void requireModality(String modality, String plural) {
        if (!family.modalities().contains(modality)) {
            throw new IllegalArgumentException("the model in " + modelId + " takes no " + plural);
        }
    }

    private UnsupportedOperationException cannotCount(String what) {
        return new UnsupportedOperationException("the processor of " + modelId + " cannot tell " + what);
    }

    private int[] tokens(PromptInput input, Map<String, Integer> items) {
        if (input.tokenIds() != null) {
            return input.tokenIds();
        }
        if (!input.chat()) {
            return model.tokenizer().encode(input.text(), true);
        }
        ChatTemplate template = model.tokenizer().chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                "chat: " + modelId + " has no chat template: " + model.tokenizer().config().missingChatTemplateReason()));
        List<Map<String, Object>> messages = new ArrayList<>();
        if (input.system() != null) {
            messages.add(Map.of("role", "system", "content", input.system()));
        }
        if (items.isEmpty()) {
            messages.add(Map.of("role", "user", "content", input.text()));
        } else {
            // HF's multimodal message form: media entries first, then the text
            List<Map<String, Object>> content = new ArrayList<>();
            for (String modality : MODALITY_ORDER) {
                for (int i = 0; i < items.getOrDefault(modality, 0); i++) {
                    content.add(family.chatContentEntry(modality));
                }
            }
            Map<String, Object> text = new LinkedHashMap<>();
            text.put("type", "text");
            text.put("text", input.text());
            content.add(text);
            messages.add(Map.of("role", "user", "content", content));
        }
        // the template already placed any BOS it wants, so none is added again
        return model.tokenizer().encode(template.render(messages, true, Map.of()), false);
    }

    public ProcessorCache cache() {
        return cache;
    }
}
