package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.BackendProvider;

/**
 * Device "cuda" (and "cuda:N"): {@link CudaBackend} on NVIDIA GPUs. Loading and naming this
 * provider touches no driver; {@link #availability()} probes once per JVM through {@link Cuda},
 * which turns a missing driver or device into a reason instead of an error.
 */
public final class CudaBackendProvider implements BackendProvider {

    public static final String NAME = "cuda";

    @Override
    public String name() {
        return NAME;
    }

    /** Above "cpu" (100): with a usable GPU, "auto" picks it. */
    @Override
    public int priority() {
        return 200;
    }

    @Override
    public Availability availability() {
        return Cuda.availability();
    }

    /** {@code threads} is ignored: host threads only queue work on the device's stream. */
    @Override
    public Backend create(int deviceIndex, int threads) {
        Availability a = availability();
        if (!a.available()) {
            throw new IllegalStateException("device '" + NAME + "' is not available: " + a.reason());
        }
        int count = Cuda.deviceCount();
        if (deviceIndex < 0 || deviceIndex >= count) {
            throw new IllegalArgumentException("device '" + NAME + ":" + deviceIndex + "' does not exist: this machine has "
                    + count + " CUDA device" + (count == 1 ? "" : "s") + " (cuda:0 .. cuda:" + (count - 1) + ")");
        }
        return new CudaBackend(Cuda.api(), deviceIndex, KernelModule.image(), GpuMemoryUtilization.fromSystemProperty());
    }
}
