package io.sparkmm.engine.multimodal;

import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.LlavaModel;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.tokenizer.ChatTemplate;
import io.sparkmm.processors.cache.ContentHash;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.image.ClipImageProcessor;
import io.sparkmm.processors.image.ClipImageProcessorConfig;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.prompt.PlaceholderRange;
import io.sparkmm.processors.prompt.PromptReplacement;
import io.sparkmm.processors.prompt.PromptUpdater;
import io.sparkmm.processors.prompt.UpdatedPrompt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link PromptInput} into an {@link EngineRequest} in the caller's thread (a Spark task),
 * so preprocessing runs in parallel across tasks and never in the engine loop: read each item's
 * bytes, look it up in the processor cache by content hash (decode + resize + normalize on a miss),
 * render the chat template with one image entry per item, tokenize, and expand each placeholder
 * into the item's feature tokens with its range. Any problem with the input throws an
 * IllegalArgumentException (or a media error) naming the item; the caller fails that row only.
 */
public final class MultimodalProcessor {

    private final LoadedModel model;
    private final ProcessorCache cache;
    private final MediaLimits limits;
    private final ClipImageProcessor imageProcessor;
    private final String processorOptions;
    private final String modelId;

    public MultimodalProcessor(LoadedModel model, ProcessorCache cache, MediaLimits limits) {
        this.model = model;
        this.cache = cache;
        this.limits = limits;
        this.modelId = model.checkpoint().directory().toAbsolutePath().normalize().toString();
        Path pre = model.checkpoint().directory().resolve("preprocessor_config.json");
        if (model.isMultimodal()) {
            if (!Files.isRegularFile(pre)) {
                throw new IllegalArgumentException("multimodal model " + modelId + " has no preprocessor_config.json");
            }
            this.imageProcessor = new ClipImageProcessor(ClipImageProcessorConfig.load(pre));
            try {
                this.processorOptions = Files.readString(pre);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read " + pre + ": " + e.getMessage(), e);
            }
        } else {
            this.imageProcessor = null;
            this.processorOptions = "";
        }
    }

    public EngineRequest build(String requestId, PromptInput input, SamplingParams sampling) {
        if (!input.audio().isEmpty() || !input.video().isEmpty()) {
            throw new IllegalArgumentException("the model in " + modelId + " takes "
                    + (model.isMultimodal() ? "images" : "text") + " only; "
                    + (input.audio().isEmpty() ? "video" : "audio") + " inputs are not supported by it");
        }
        if (!input.images().isEmpty() && !model.isMultimodal()) {
            throw new IllegalArgumentException("the model in " + modelId + " is text-only; it cannot take images");
        }
        List<ProcessedItem> items = new ArrayList<>();
        for (MediaSource src : input.images()) {
            items.add(processImage(src));
        }
        int[] ids = tokens(input, items.size());
        if (!model.isMultimodal()) {
            return new EngineRequest(requestId, ids, sampling, null, List.of());
        }
        LlavaModel llava = model.llava();
        PromptReplacement spec = new PromptReplacement("image", "<image>", llava.imageTokenId(), llava.imageTokenId());
        int[] counts = items.stream().mapToInt(ProcessedItem::placeholderCount).toArray();
        UpdatedPrompt updated = PromptUpdater.applyToTokens(ids, spec, counts);
        List<MediaInput> media = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            PlaceholderRange r = updated.ranges().get(i);
            ProcessedItem it = items.get(i);
            media.add(new MediaInput(it.hash(), "image", r.offset(), r.length(), it.data()));
        }
        return new EngineRequest(requestId, updated.tokenIds(), sampling, null, media);
    }

    private ProcessedItem processImage(MediaSource src) {
        byte[] bytes = src.bytes(limits);
        String hash = ContentHash.of(modelId, "image", processorOptions, bytes);
        int perImage = model.llava().imageTokensPerImage();
        return cache.get(hash, () -> {
            RgbImage image = MediaIO.readImage(MediaSource.ofBytes(src.name(), bytes), limits);
            float[] pixels = imageProcessor.process(image);
            return new ProcessedItem(hash, "image", pixels,
                    new int[] {3, imageProcessor.outputHeight(), imageProcessor.outputWidth()}, perImage);
        });
    }

    private int[] tokens(PromptInput input, int images) {
        if (input.tokenIds() != null) {
            return input.tokenIds();
        }
        if (!input.chat()) {
            return model.tokenizer().encode(input.text(), true);
        }
        ChatTemplate template = model.tokenizer().chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                "chat: " + modelId + " has no chat template (tokenizer_config.json chat_template or chat_template.jinja)"));
        List<Map<String, Object>> messages = new ArrayList<>();
        if (input.system() != null) {
            messages.add(Map.of("role", "system", "content", input.system()));
        }
        if (images == 0) {
            messages.add(Map.of("role", "user", "content", input.text()));
        } else {
            // HF's multimodal message form: media entries first, then the text
            List<Map<String, Object>> content = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                content.add(Map.of("type", "image"));
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
