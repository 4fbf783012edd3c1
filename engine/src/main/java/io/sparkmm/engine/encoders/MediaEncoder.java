package io.sparkmm.engine.encoders;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.kernels.Tensor;

/**
 * One processed media item to the embedding rows that replace its placeholder positions
 * ([item.numEmbeddings(), text hidden]): a family's own tower on the backend, or an ONNX file run by
 * ONNX Runtime. Whichever it is, the engine gets an ordinary encoder result, so its encoder cache,
 * encoder budget and prefix hashing do not know the difference.
 */
public interface MediaEncoder extends AutoCloseable {

    /** Caller owns the result. @throws IllegalArgumentException if the item is not one this encoder takes */
    Tensor encode(MediaInput item);

    /** What runs, for logs and errors: "native" or the ONNX file and its execution provider. */
    String description();

    @Override
    void close();
}
