package io.sparkmm.kernels.reference;

import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.BackendProvider;
import io.sparkmm.kernels.cpu.Checks;

/**
 * Device "cpu-reference": the scalar oracle. Always available and last in line for "auto";
 * choose it by name to check a result against the oracle.
 */
public final class ReferenceBackendProvider implements BackendProvider {

    public static final String NAME = "cpu-reference";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        return Availability.AVAILABLE;
    }

    /** The reference backend is single-threaded, so {@code threads} is ignored. */
    @Override
    public Backend create(int deviceIndex, int threads) {
        Checks.cpuDeviceIndex(NAME, deviceIndex);
        return new ReferenceBackend();
    }
}
