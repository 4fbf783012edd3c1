package io.sparkmm.kernels.simd;

import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.BackendProvider;
import io.sparkmm.kernels.cpu.Checks;

/**
 * Device "cpu": the Vector API backend. This class names no Vector API type, so it loads (and
 * says why it is unavailable) in a JVM started without {@code --add-modules jdk.incubator.vector};
 * {@link VectorBackend}, which needs the module, is loaded by name only in {@link #create}.
 */
public final class VectorBackendProvider implements BackendProvider {

    public static final String NAME = "cpu";
    public static final String VECTOR_MODULE = "jdk.incubator.vector";

    private static final String BACKEND_CLASS = "io.sparkmm.kernels.simd.VectorBackend";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Availability availability() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent()) {
            return Availability.AVAILABLE;
        }
        return Availability.unavailable("the Vector API is not enabled; start the JVM with --add-modules "
                + VECTOR_MODULE + " (on Spark executors, in spark.executor.extraJavaOptions)");
    }

    @Override
    public Backend create(int deviceIndex, int threads) {
        Checks.cpuDeviceIndex(NAME, deviceIndex);
        Availability availability = availability();
        if (!availability.available()) {
            throw new IllegalStateException("device '" + NAME + "' is not available: " + availability.reason());
        }
        try {
            return (Backend) Class.forName(BACKEND_CLASS).getConstructor(int.class).newInstance(threads);
        } catch (java.lang.reflect.InvocationTargetException e) {
            // the constructor's own error (e.g. a bad thread count) is the one to report
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("could not start the Vector API backend", e.getCause());
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("could not start the Vector API backend", e);
        }
    }
}
