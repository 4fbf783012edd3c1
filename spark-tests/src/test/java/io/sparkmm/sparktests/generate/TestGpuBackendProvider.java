package io.sparkmm.sparktests.generate;

import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.BackendProvider;
import io.sparkmm.kernels.reference.ReferenceBackend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A stand-in "cuda" device for tests on machines without GPUs, registered only on the spark-tests
 * test class path: device {@code cuda:N} computes on the CPU reference backend, and the provider
 * remembers which index each backend was created for, so a test running in the executor JVM can
 * tell which GPU an engine's weights were loaded for and how many times each was.
 *
 * <p>Its priority is below every real backend, so device "auto" never picks it by priority: only
 * the GPU mapping (a task with a GPU address, see DeviceAssignment) or the word "cuda" reaches it.
 */
public final class TestGpuBackendProvider implements BackendProvider {

    private static final Map<Backend, Integer> INDEX_OF = Collections.synchronizedMap(new IdentityHashMap<>());
    private static final List<Integer> CREATED = Collections.synchronizedList(new ArrayList<>());

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return -100;
    }

    @Override
    public Availability availability() {
        return Availability.AVAILABLE;
    }

    @Override
    public Backend create(int deviceIndex, int threads) {
        Backend b = new ReferenceBackend();
        INDEX_OF.put(b, deviceIndex);
        CREATED.add(deviceIndex);
        return b;
    }

    /** The index {@code backend} was created for in this JVM, or -1 if this provider did not create it. */
    static int indexOf(Backend backend) {
        return INDEX_OF.getOrDefault(backend, -1);
    }

    /** Every index a backend was created for in this JVM, in creation order (one per load of weights). */
    static List<Integer> created() {
        synchronized (CREATED) {
            return List.copyOf(CREATED);
        }
    }
}
