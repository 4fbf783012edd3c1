package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.BackendProvider.Availability;

/**
 * Whether CUDA works in this JVM, probed once: load the driver binding, cuInit, count devices.
 * Every failure becomes a reason rather than an error, so listing devices works on any machine:
 * without {@code libcuda.so.1} JavaCPP's loader throws {@link UnsatisfiedLinkError} from a static
 * initializer (and later uses {@link NoClassDefFoundError}), hence {@code catch (Throwable)}.
 */
public final class Cuda {

    /** The class touching bytedeco, loaded by name so that this class never links against it. */
    private static final String BINDING = "io.sparkmm.kernels.cuda.BytedecoCudaApi";

    private Cuda() {
    }

    /** The probe's outcome: the API when usable, else why not. */
    record Probe(CudaApi api, int devices, Availability availability) {
    }

    private static final class Once {
        static final Probe PROBE = probe(Cuda::loadBinding);
    }

    /** Whether CUDA can be used here: a driver, and at least one device. */
    public static boolean available() {
        return availability().available();
    }

    /** Why CUDA cannot be used here; empty when it can. */
    public static String reason() {
        return availability().reason();
    }

    public static Availability availability() {
        return Once.PROBE.availability();
    }

    /** Number of CUDA devices, 0 when CUDA is not available. */
    public static int deviceCount() {
        return Once.PROBE.devices();
    }

    /** The initialised driver API. */
    static CudaApi api() {
        Probe p = Once.PROBE;
        if (!p.availability().available()) {
            throw new IllegalStateException("CUDA is not available: " + p.availability().reason());
        }
        return p.api();
    }

    private static CudaApi loadBinding() throws ReflectiveOperationException {
        try {
            return (CudaApi) Class.forName(BINDING).getConstructor().newInstance();
        } catch (java.lang.reflect.InvocationTargetException e) {
            // the constructor's own error (UnsatisfiedLinkError for libcuda.so.1) is the one to report
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** How a binding is obtained; tests pass fakes and failing loaders. */
    interface Loader {
        CudaApi load() throws Exception;
    }

    /** Loads, initialises and counts devices; never throws. */
    static Probe probe(Loader loader) {
        CudaApi api;
        try {
            api = loader.load();
        } catch (Throwable t) {
            return new Probe(null, 0, Availability.unavailable(describeLoadFailure(t)));
        }
        try {
            api.init();
            int count = api.deviceCount();
            if (count <= 0) {
                return new Probe(null, 0, Availability.unavailable("no CUDA device: the driver loaded but reports "
                        + count + " devices (check CUDA_VISIBLE_DEVICES and nvidia-smi)"));
            }
            return new Probe(api, count, Availability.AVAILABLE);
        } catch (Throwable t) {
            return new Probe(null, 0, Availability.unavailable("the CUDA driver did not start: " + t.getMessage()
                    + " (check nvidia-smi; CUDA 13 needs driver 580 or newer)"));
        }
    }

    private static String describeLoadFailure(Throwable t) {
        String message = String.valueOf(t.getMessage());
        StringBuilder detail = new StringBuilder(t.getClass().getSimpleName()).append(": ").append(message);
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            detail.append("; caused by ").append(c);
        }
        String all = detail.toString();
        String missing = all.contains("libcuda.so") ? "the CUDA driver library libcuda.so.1 (the NVIDIA driver)"
                : all.contains("libcudart.so") ? "the CUDA 13 runtime library libcudart.so.13 (put its directory on LD_LIBRARY_PATH)"
                : t instanceof ClassNotFoundException || t instanceof NoClassDefFoundError
                        ? "the bytedeco cuda classes (org.bytedeco:cuda:13.1-9.19-1.5.13 and its linux-x86_64 natives)"
                        : "the CUDA binding";
        return "could not load " + missing + " (" + all + ")";
    }
}
