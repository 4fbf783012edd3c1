package io.sparkmm.engine;

import io.sparkmm.engine.sampling.SamplingParams;

/**
 * One generation request, already tokenized.
 *
 * @param requestId a caller's id for logs and errors; null lets the engine number it
 * @param promptTokenIds the prompt
 * @param sampling how to pick tokens
 * @param cacheSalt separates prefix-cache entries of different tenants; null = shared
 */
public record EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling, String cacheSalt) {

    public EngineRequest {
        if (promptTokenIds == null) {
            throw new IllegalArgumentException("promptTokenIds is required");
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling is required");
        }
        promptTokenIds = promptTokenIds.clone();
    }

    public static EngineRequest of(int[] promptTokenIds, SamplingParams sampling) {
        return new EngineRequest(null, promptTokenIds, sampling, null);
    }
}
