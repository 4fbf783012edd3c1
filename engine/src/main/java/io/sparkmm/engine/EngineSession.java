package io.sparkmm.engine;

import io.sparkmm.engine.checkpoint.ModelLocation;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.cache.ProcessorCache;

import java.nio.file.Path;

/**
 * The one way to assemble an engine (used by the CLI, the connector, the benchmarks and the
 * examples): a model location and engine options in, an {@link Engine} and the request builder
 * that feeds it out. {@link #open} loads the model on the options' device and owns it; {@link
 * #over} runs another engine over a model someone else loaded (engines with different options
 * share weights that way). Closing stops the engine, then releases what the session owns.
 */
public final class EngineSession implements AutoCloseable {

    private final LoadedModel model;
    private final boolean ownsModel;
    private final Engine engine;
    private final MultimodalProcessor requests;
    private final EngineOptions options;

    private EngineSession(LoadedModel model, boolean ownsModel, EngineOptions options, ProcessorCache cache) {
        this.model = model;
        this.ownsModel = ownsModel;
        this.options = options;
        this.engine = new Engine(model, options.engine());
        this.requests = new MultimodalProcessor(model, cache, options.mediaLimits());
    }

    /**
     * Loads the model at {@code location} (a directory, a {@code file:} URI or {@code classpath:NAME})
     * on the options' device and starts an engine over it.
     */
    public static EngineSession open(String location, EngineOptions options) {
        LoadedModel model = loadModel(location, options.device(), options.encoderOnnx());
        try {
            return new EngineSession(model, true, options, new ProcessorCache(options.processorCacheBytes()));
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }

    /** Loads a model on a device, owning the backend it creates (what several sessions may share). */
    public static LoadedModel loadModel(String location, String device) {
        return loadModel(location, device, null);
    }

    /**
     * {@link #loadModel(String, String)} with the media encoder from the ONNX file {@code encoderOnnx} (null or
     * blank: the checkpoint's own tower).
     */
    public static LoadedModel loadModel(String location, String device, String encoderOnnx) {
        Path onnx = encoderOnnx == null || encoderOnnx.isBlank() ? null : Path.of(encoderOnnx);
        return LoadedModel.openOwning(ModelLocation.resolve(location), Backends.open(device), onnx);
    }

    /** An engine over a model the caller keeps owning, with a processor cache the caller may share. */
    public static EngineSession over(LoadedModel model, EngineOptions options, ProcessorCache cache) {
        return new EngineSession(model, false, options, cache);
    }

    public Engine engine() {
        return engine;
    }

    /** Turns prompts and media into engine requests, in the caller's thread. */
    public MultimodalProcessor requests() {
        return requests;
    }

    public LoadedModel model() {
        return model;
    }

    public EngineOptions options() {
        return options;
    }

    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            if (ownsModel) {
                model.close();
            }
        }
    }
}
