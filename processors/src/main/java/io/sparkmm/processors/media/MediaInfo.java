package io.sparkmm.processors.media;

/**
 * What a probe learned about a media item without decoding it. A field is null when it does
 * not apply to the modality (an image has no duration) or the container does not say.
 *
 * @param modality        {@code image}, {@code audio} or {@code video}
 * @param width           pixels (images, video)
 * @param height          pixels (images, video)
 * @param durationSeconds container duration (audio, video)
 * @param fps             average frame rate (video)
 * @param sampleRate      Hz of the first audio stream (audio, video with sound)
 * @param channels        channels of the first audio stream (audio, video with sound)
 */
public record MediaInfo(String modality, Integer width, Integer height, Double durationSeconds, Double fps,
                        Integer sampleRate, Integer channels) {
}
