package io.sparkmm.engine.encoders.onnx;

import io.sparkmm.engine.encoders.ExternalEncoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;

import java.nio.file.Path;

/** Puts an ONNX file in place of a loaded family model's media encoder. */
public final class OnnxEncoders {

    private OnnxEncoders() {
    }

    /**
     * {@code model} with its media encoder replaced by {@code file}, run with as many intra-op threads as
     * the CPU backend uses ({@link Backends#THREADS_PROPERTY}, default: the available processors). Takes
     * ownership of {@code model}, also when this fails.
     *
     * @throws IllegalArgumentException naming the file when the family cannot take an ONNX encoder or the
     *     file does not fit it
     */
    public static FamilyModel attach(FamilyModel model, Path file, Backend backend) {
        return attach(model, file, backend, Backends.defaultThreads());
    }

    /** {@link #attach(FamilyModel, Path, Backend)} with {@code threads} intra-op threads. */
    public static FamilyModel attach(FamilyModel model, Path file, Backend backend, int threads) {
        try {
            io.sparkmm.engine.encoders.EncoderPort port;
            try {
                port = model.externalEncoderPort();
            } catch (UnsupportedOperationException e) {
                throw new IllegalArgumentException("ONNX encoder file " + file + ": " + e.getMessage(), e);
            }
            return new ExternalEncoderModel(model, OnnxMediaEncoder.open(file, port, backend, threads));
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }
}
