package io.sparkmm.engine.multimodal;

import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.media.MediaSource;

import java.util.List;

/**
 * One request as a user gives it: a text prompt (or token ids) and its media, in order.
 *
 * @param text the prompt text; null when {@code tokenIds} are given
 * @param tokenIds a pre-tokenized prompt; null when {@code text} is given
 * @param chat render {@code text} through the model's chat template as one user message (media first)
 * @param system an optional system message for the chat template
 * @param processorKwargs per-request settings of the model's media processor (vLLM's
 *     mm_processor_kwargs); null means none
 */
public record PromptInput(String text, int[] tokenIds, boolean chat, String system,
                          List<MediaSource> images, List<MediaSource> audio, List<MediaSource> video,
                          ProcessorKwargs processorKwargs) {

    public PromptInput(String text, int[] tokenIds, boolean chat, String system,
                       List<MediaSource> images, List<MediaSource> audio, List<MediaSource> video) {
        this(text, tokenIds, chat, system, images, audio, video, ProcessorKwargs.NONE);
    }

    public PromptInput {
        if ((text == null) == (tokenIds == null)) {
            throw new IllegalArgumentException("give exactly one of a prompt text or prompt token ids");
        }
        if (tokenIds != null && chat) {
            throw new IllegalArgumentException("the chat template applies to prompt text, not to token ids");
        }
        images = images == null ? List.of() : List.copyOf(images);
        audio = audio == null ? List.of() : List.copyOf(audio);
        video = video == null ? List.of() : List.copyOf(video);
        processorKwargs = processorKwargs == null ? ProcessorKwargs.NONE : processorKwargs;
    }

    public PromptInput withProcessorKwargs(ProcessorKwargs kwargs) {
        return new PromptInput(text, tokenIds, chat, system, images, audio, video, kwargs);
    }

    public static PromptInput text(String text, boolean chat, List<MediaSource> images) {
        return new PromptInput(text, null, chat, null, images, List.of(), List.of());
    }
}
