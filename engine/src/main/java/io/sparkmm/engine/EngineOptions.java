package io.sparkmm.engine;

import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.media.MediaLimits;

/**
 * Everything that shapes an engine besides the model, fixed at construction.
 *
 * @param device the compute backend: "auto", "cpu", "cpu-reference", later "cuda:N"
 * @param engine scheduling, KV pool and prefix-cache settings
 * @param processorCacheBytes bound of the processed-media cache (0 disables it)
 * @param mediaLimits what a media item may cost before it is refused
 * @param encoderOnnx an ONNX file to run as the model's media encoder in place of the checkpoint's
 *     tower (see {@link io.sparkmm.engine.encoders.onnx.OnnxEncoders}), or null for the checkpoint's own
 */
public record EngineOptions(String device, EngineConfig engine, long processorCacheBytes, MediaLimits mediaLimits,
                            String encoderOnnx) {

    public EngineOptions(String device, EngineConfig engine, long processorCacheBytes, MediaLimits mediaLimits) {
        this(device, engine, processorCacheBytes, mediaLimits, null);
    }

    /** Processed media kept for reuse across requests when nothing else is said. */
    public static final long DEFAULT_PROCESSOR_CACHE_BYTES = 512L << 20;

    public EngineOptions {
        if (device == null || device.isBlank()) {
            device = "auto";
        }
        if (engine == null) {
            throw new IllegalArgumentException("engine options need an EngineConfig");
        }
        if (processorCacheBytes < 0) {
            throw new IllegalArgumentException("processor cache bytes must be >= 0, got " + processorCacheBytes);
        }
        if (mediaLimits == null) {
            mediaLimits = MediaLimits.defaults();
        }
        if (encoderOnnx != null && encoderOnnx.isBlank()) {
            encoderOnnx = null;
        }
    }

    /** The defaults on the device named by the {@code sparkmm.device} system property (else auto). */
    public static EngineOptions defaults() {
        return new EngineOptions(defaultDevice(), EngineConfig.defaults(), DEFAULT_PROCESSOR_CACHE_BYTES,
                MediaLimits.defaults());
    }

    /** The {@code sparkmm.device} system property, else "auto" (the best available backend). */
    public static String defaultDevice() {
        return Backends.defaultDevice();
    }

    public EngineOptions withDevice(String d) {
        return new EngineOptions(d, engine, processorCacheBytes, mediaLimits, encoderOnnx);
    }

    public EngineOptions withEngine(EngineConfig e) {
        return new EngineOptions(device, e, processorCacheBytes, mediaLimits, encoderOnnx);
    }

    public EngineOptions withProcessorCacheBytes(long b) {
        return new EngineOptions(device, engine, b, mediaLimits, encoderOnnx);
    }

    /** With the media encoder from this ONNX file (null: the checkpoint's own). */
    public EngineOptions withEncoderOnnx(String file) {
        return new EngineOptions(device, engine, processorCacheBytes, mediaLimits, file);
    }
}
