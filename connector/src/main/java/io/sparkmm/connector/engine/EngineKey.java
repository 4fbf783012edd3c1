package io.sparkmm.connector.engine;

import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.checkpoint.ModelLocation;

import java.io.Serializable;
import java.nio.file.Path;

/**
 * Identifies one shared engine in an executor JVM: two tasks asking for equal keys get the same
 * engine (and so share its KV pool, prefix cache and encoder cache); any difference in model,
 * engine options or device gives a separate engine. Immutable and serializable, so the driver
 * builds it once and ships it in the task closure.
 *
 * @param modelPath the checkpoint directory, absolute and normalized so spellings of one path match, or
 *                  {@code classpath:NAME} for a model embedded in the application jar (kept as given)
 * @param maxBatchedTokens the engine's token budget per step
 * @param maxSeqs the most requests running at once
 * @param kvCacheBytes the KV pool size (0 = the engine's default share of the heap)
 * @param device the compute backend: auto | reference | simd (a GPU backend plugs in here later)
 */
public record EngineKey(String modelPath, int maxBatchedTokens, int maxSeqs, long kvCacheBytes, String device)
        implements Serializable {

    public EngineKey {
        if (modelPath == null || modelPath.isBlank()) {
            throw new IllegalArgumentException("sparkmm: modelPath is required (the Hugging Face checkpoint directory)");
        }
        modelPath = normalize(modelPath);
        if (device == null || device.isBlank()) {
            device = "auto";
        }
        // fail on the driver, naming the option, rather than in every task
        config(maxBatchedTokens, maxSeqs, kvCacheBytes);
    }

    public EngineConfig engineConfig() {
        return config(maxBatchedTokens, maxSeqs, kvCacheBytes);
    }

    private static EngineConfig config(int maxBatchedTokens, int maxSeqs, long kvCacheBytes) {
        return EngineConfig.defaults().withMaxNumBatchedTokens(maxBatchedTokens).withMaxNumSeqs(maxSeqs)
                .withKvCacheBytes(kvCacheBytes);
    }

    private static String normalize(String p) {
        if (ModelLocation.isClasspath(p)) {
            return p;
        }
        String s = p.startsWith("file://") ? p.substring("file://".length()) : p.startsWith("file:") ? p.substring(5) : p;
        return Path.of(s).toAbsolutePath().normalize().toString();
    }
}
