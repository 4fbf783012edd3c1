package io.sparkmm.engine;

import io.sparkmm.engine.sampling.SamplingParams;

import java.util.List;

/**
 * One generation request, already tokenized.
 *
 * @param requestId a caller's id for logs and errors; null lets the engine number it
 * @param promptTokenIds the prompt
 * @param sampling how to pick tokens
 * @param cacheSalt separates prefix-cache entries of different tenants; null = shared
 * @param media processed media items, in prompt order, with their placeholder ranges
 */
public record EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling, String cacheSalt,
                            List<MediaInput> media) {

    public EngineRequest {
        if (promptTokenIds == null) {
            throw new IllegalArgumentException("promptTokenIds is required");
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling is required");
        }
        promptTokenIds = promptTokenIds.clone();
        media = media == null ? List.of() : List.copyOf(media);
    }

    public EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling, String cacheSalt) {
        this(requestId, promptTokenIds, sampling, cacheSalt, List.of());
    }

    public static EngineRequest of(int[] promptTokenIds, SamplingParams sampling) {
        return new EngineRequest(null, promptTokenIds, sampling, null, List.of());
    }
}
