package io.sparkmm.engine.encoders;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.kernels.Tensor;

/** The family's own tower on the backend, as a {@link MediaEncoder}; the model stays the caller's to close. */
public record NativeMediaEncoder(FamilyModel model) implements MediaEncoder {

    @Override
    public Tensor encode(MediaInput item) {
        return model.encode(item);
    }

    @Override
    public String description() {
        return "native " + model.family().name() + " encoder";
    }

    @Override
    public void close() {
        // the model owns its tower
    }
}
