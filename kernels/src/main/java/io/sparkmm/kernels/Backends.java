package io.sparkmm.kernels;

import io.sparkmm.kernels.reference.ReferenceBackend;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Picks a CPU backend. The Vector API backend lives in an incubator module, so it is loaded
 * reflectively: without {@code --add-modules jdk.incubator.vector} the reference backend runs
 * and one warning says how to enable the fast one.
 */
public final class Backends {

    /** System property: "reference" forces the reference backend; "simd" demands the fast one. */
    public static final String BACKEND_PROPERTY = "sparkmm.backend";
    /** System property: threads for the fast backend (default: available processors). */
    public static final String THREADS_PROPERTY = "sparkmm.threads";

    private static final String SIMD_CLASS = "io.sparkmm.kernels.simd.VectorBackend";
    private static final Logger LOG = Logger.getLogger(Backends.class.getName());
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private Backends() {
    }

    /** The backend chosen by system properties and what the JVM offers. */
    public static Backend createDefault() {
        String choice = System.getProperty(BACKEND_PROPERTY, "auto");
        int threads = Integer.getInteger(THREADS_PROPERTY, Runtime.getRuntime().availableProcessors());
        return create(choice, threads);
    }

    /**
     * @param choice "auto" (fast when available), "reference", or "simd" (fails if unavailable)
     * @param threads threads for the fast backend
     */
    public static Backend create(String choice, int threads) {
        switch (choice) {
            case "reference":
                return new ReferenceBackend();
            case "simd":
                if (!vectorApiAvailable()) {
                    throw new IllegalStateException("backend 'simd' needs the JVM flag --add-modules jdk.incubator.vector");
                }
                return loadSimd(threads);
            case "auto":
                if (vectorApiAvailable()) {
                    return loadSimd(threads);
                }
                if (WARNED.compareAndSet(false, true)) {
                    LOG.warning("sparkmm: the Vector API is not enabled, using the slow reference backend; "
                            + "start the JVM with --add-modules jdk.incubator.vector for the fast CPU backend");
                }
                return new ReferenceBackend();
            default:
                throw new IllegalArgumentException("unknown backend '" + choice + "' for " + BACKEND_PROPERTY
                        + " (expected auto, reference or simd)");
        }
    }

    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    private static Backend loadSimd(int threads) {
        try {
            Class<?> c = Class.forName(SIMD_CLASS);
            return (Backend) c.getConstructor(int.class).newInstance(threads);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("could not start the Vector API backend", e);
        }
    }
}
