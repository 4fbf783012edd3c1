package io.sparkmm.engine.runner;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.kernels.Tensor;

/** Runs one processed media item through its encoder: out[item.length(), textHidden]. */
@FunctionalInterface
public interface MediaEncoder {

    Tensor encode(MediaInput item);
}
