package io.sparkmm.connector.engine;

import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.checkpoint.ModelLocation;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Locale;

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
 * @param kvCacheBytes the KV pool size (0 = the engine's default share of the device's memory)
 * @param device the compute backend as the user wrote it: {@code auto} (default), {@code cpu},
 *               {@code cpu-reference}, {@code cuda} or {@code cuda:N}; each executor resolves it per task
 *               ({@link DeviceAssignment}: {@code cuda} and {@code auto} follow the task's Spark GPU), so the
 *               key stays the same on every executor; the old words {@code reference} and {@code simd}
 *               still mean {@code cpu-reference} and {@code cpu}
 * @param kvCacheDtype the KV pool's element type: f32 (default), bf16 or f16
 * @param encoderCacheRows the encoder output cache in embedding rows (0 = the engine's default)
 * @param prefixWait whether the engine waits for prefix blocks other requests are computing
 *                   ({@link EngineConfig#prefixWait()})
 * @param encoderOnnx an ONNX file run as the model's media encoder instead of the checkpoint's tower
 *                    (absolute and normalized; null: the checkpoint's own). Part of the key, as the weights
 *                    it replaces are: engines with and without it do not share a loaded model
 */
public record EngineKey(String modelPath, int maxBatchedTokens, int maxSeqs, long kvCacheBytes, String device,
                        String kvCacheDtype, int encoderCacheRows, boolean prefixWait, String encoderOnnx)
        implements Serializable {

    /** A key with the checkpoint's own media encoder. */
    public EngineKey(String modelPath, int maxBatchedTokens, int maxSeqs, long kvCacheBytes, String device,
                     String kvCacheDtype, int encoderCacheRows, boolean prefixWait) {
        this(modelPath, maxBatchedTokens, maxSeqs, kvCacheBytes, device, kvCacheDtype, encoderCacheRows, prefixWait, null);
    }

    /** The device word that defers the choice to the executor. */
    public static final String AUTO = "auto";

    public EngineKey {
        if (modelPath == null || modelPath.isBlank()) {
            throw new IllegalArgumentException("sparkmm: modelPath is required (the Hugging Face checkpoint directory)");
        }
        modelPath = normalize(modelPath);
        device = normalizeDevice(device);
        encoderOnnx = encoderOnnx == null || encoderOnnx.isBlank() ? null : normalizeFile(encoderOnnx.strip());
        kvCacheDtype = kvCacheDtype == null || kvCacheDtype.isBlank() ? DEFAULT_KV_DTYPE
                : kvCacheDtype.strip().toLowerCase(Locale.ROOT);
        // fail on the driver, naming the option, rather than in every task
        config(maxBatchedTokens, maxSeqs, kvCacheBytes, kvCacheDtype, encoderCacheRows);
    }

    /** A key with the engine's default in-flight prefix wait (on). */
    public EngineKey(String modelPath, int maxBatchedTokens, int maxSeqs, long kvCacheBytes, String device,
                     String kvCacheDtype, int encoderCacheRows) {
        this(modelPath, maxBatchedTokens, maxSeqs, kvCacheBytes, device, kvCacheDtype, encoderCacheRows, true);
    }

    /** A key with the default encoder cache. */
    public EngineKey(String modelPath, int maxBatchedTokens, int maxSeqs, long kvCacheBytes, String device,
                     String kvCacheDtype) {
        this(modelPath, maxBatchedTokens, maxSeqs, kvCacheBytes, device, kvCacheDtype, 0);
    }

    /** The engine's default KV element type, in the connector's word. */
    public static final String DEFAULT_KV_DTYPE = "f32";

    /** A key with the default KV element type. */
    public EngineKey(String modelPath, int maxBatchedTokens, int maxSeqs, long kvCacheBytes, String device) {
        this(modelPath, maxBatchedTokens, maxSeqs, kvCacheBytes, device, DEFAULT_KV_DTYPE, 0);
    }

    public EngineConfig engineConfig() {
        return config(maxBatchedTokens, maxSeqs, kvCacheBytes, kvCacheDtype, encoderCacheRows).withPrefixWait(prefixWait);
    }

    private static EngineConfig config(int maxBatchedTokens, int maxSeqs, long kvCacheBytes, String kvCacheDtype,
                                       int encoderCacheRows) {
        try {
            return EngineConfig.defaults().withMaxNumBatchedTokens(maxBatchedTokens).withMaxNumSeqs(maxSeqs)
                    .withKvCacheBytes(kvCacheBytes).withKvCacheDtype(EngineConfig.parseKvDtype(kvCacheDtype))
                    .withEncoderCacheRows(encoderCacheRows);
        } catch (IllegalArgumentException e) {
            // the engine speaks its own (vLLM) names; the user wrote the connector's
            throw new IllegalArgumentException("sparkmm: bad engine option among maxBatchedTokens=" + maxBatchedTokens
                    + ", maxSeqs=" + maxSeqs + ", kvCacheBytes=" + kvCacheBytes + ", kvCacheDtype=" + kvCacheDtype
                    + ", encoderCacheRows=" + encoderCacheRows
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * One spelling per device, so "CPU", "simd" and "cpu" share one engine (and one copy of the
     * weights). The word itself is checked on the executor, which is where the devices are.
     */
    static String normalizeDevice(String device) {
        if (device == null || device.isBlank()) {
            return AUTO;
        }
        String d = device.strip().toLowerCase(Locale.ROOT);
        return switch (d) {
            case "reference" -> "cpu-reference";
            case "simd" -> "cpu";
            default -> d;
        };
    }

    private static String normalize(String p) {
        if (ModelLocation.isClasspath(p)) {
            return p;
        }
        return normalizeFile(p);
    }

    private static String normalizeFile(String p) {
        String s = p.startsWith("file://") ? p.substring("file://".length()) : p.startsWith("file:") ? p.substring(5) : p;
        return Path.of(s).toAbsolutePath().normalize().toString();
    }
}
