package io.sparkmm.kernels;

/**
 * A kind of device a {@link Backend} runs on, found by {@link java.util.ServiceLoader} through
 * {@code META-INF/services/io.sparkmm.kernels.BackendProvider}; {@link Backends#open} picks one
 * by its {@link #name()}. A provider must be cheap to load and to ask: it may not touch its
 * device (or load classes that need an optional module or native library) before
 * {@link #create}, so listing providers works on any machine.
 */
public interface BackendProvider {

    /** The device word users write, lower case, e.g. "cpu", "cpu-reference", "cuda". */
    String name();

    /** Preference for device "auto": the available provider with the highest priority wins. */
    int priority();

    /** Whether {@link #create} can work in this JVM, and if not why and how to fix it. */
    Availability availability();

    /**
     * A new backend on device {@code deviceIndex} (0 for "NAME" without an index).
     *
     * @param threads CPU threads the backend may use (at least 1)
     * @throws IllegalArgumentException if the index names no device of this kind
     * @throws IllegalStateException if the provider is not available or the device fails to start
     */
    Backend create(int deviceIndex, int threads);

    /**
     * @param available whether the provider can create backends here
     * @param reason when not available, why and how to make it available; empty otherwise
     */
    record Availability(boolean available, String reason) {

        public static final Availability AVAILABLE = new Availability(true, "");

        public Availability {
            if (reason == null || (!available && reason.isBlank())) {
                throw new IllegalArgumentException("Availability: an unavailable provider must say why");
            }
        }

        public static Availability unavailable(String reason) {
            return new Availability(false, reason);
        }
    }
}
