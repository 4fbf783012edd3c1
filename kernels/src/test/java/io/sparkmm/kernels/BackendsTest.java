package io.sparkmm.kernels;

import io.sparkmm.kernels.BackendProvider.Availability;
import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Device words, the registered providers, and the old backend words that still work for now. */
class BackendsTest {

    private static final String VECTOR_BACKEND = "io.sparkmm.kernels.simd.VectorBackend";

    /** A provider of reference backends under any name, recording the indices it was asked for. */
    private static final class Fake implements BackendProvider {
        final String name;
        final int priority;
        final Availability availability;
        final List<Integer> indices = new ArrayList<>();

        Fake(String name, int priority, Availability availability) {
            this.name = name;
            this.priority = priority;
            this.availability = availability;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int priority() {
            return priority;
        }

        @Override
        public Availability availability() {
            return availability;
        }

        @Override
        public Backend create(int deviceIndex, int threads) {
            indices.add(deviceIndex);
            return new ReferenceBackend();
        }
    }

    @Test
    void theCpuProvidersAreRegistered() {
        // surefire starts the test JVM with --add-modules jdk.incubator.vector
        // "cuda" is registered too, available or not depending on the machine (CudaAvailabilityTest)
        assertThat(Backends.devices()).containsExactly(
                new Backends.Device("cuda", 200, io.sparkmm.kernels.cuda.Cuda.availability()),
                new Backends.Device("cpu", 100, Availability.AVAILABLE),
                new Backends.Device("cpu-reference", 0, Availability.AVAILABLE));
    }

    @Test
    void autoPicksTheVectorBackendWhenTheModuleIsPresent() {
        assertThat(Backends.vectorApiAvailable()).isTrue();
        try (Backend b = Backends.open("auto", 2)) {
            assertThat(b.getClass().getName()).isEqualTo(VECTOR_BACKEND);
            assertThat(b.name()).startsWith("simd(2 threads");
        }
    }

    @Test
    void devicesByNameAndIndex() {
        try (Backend cpu = Backends.open("cpu", 1); Backend cpu0 = Backends.open(" CPU:0 ", 1);
             Backend ref = Backends.open("cpu-reference", 3)) {
            assertThat(cpu.getClass().getName()).isEqualTo(VECTOR_BACKEND);
            assertThat(cpu0.getClass().getName()).isEqualTo(VECTOR_BACKEND);
            assertThat(ref).isInstanceOf(ReferenceBackend.class);
        }
        assertThatThrownBy(() -> Backends.open("cpu:1", 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("device 'cpu:1' does not exist");
        assertThatThrownBy(() -> Backends.open("cpu-reference:2", 1))
                .hasMessageContaining("device 'cpu-reference:2' does not exist");
        assertThatThrownBy(() -> Backends.open("cpu:x", 1)).hasMessageContaining("non-negative integer");
        assertThatThrownBy(() -> Backends.open("cpu:-1", 1)).hasMessageContaining("non-negative integer");
        assertThatThrownBy(() -> Backends.open("auto:0", 1)).hasMessageContaining("'auto' takes no index");
        assertThatThrownBy(() -> Backends.open("cpu", 0)).hasMessageContaining("at least 1 thread");
    }

    @Test
    void unknownDevicesListWhatIsRegisteredAndWhyUnavailable() {
        assertThatThrownBy(() -> Backends.open("gpu", 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown device 'gpu'").hasMessageContaining("cpu, cpu-reference");
        List<BackendProvider> providers = List.of(new Fake("cpu-reference", 0, Availability.AVAILABLE),
                new Fake("cuda", 200, Availability.unavailable("no CUDA driver")));
        assertThatThrownBy(() -> Backends.open("tpu:0", 1, providers))
                .hasMessageContaining("unknown device 'tpu:0' for sparkmm.device")
                .hasMessageContaining("cuda (unavailable: no CUDA driver), cpu-reference");
        assertThatThrownBy(() -> Backends.open("cuda:1", 1, providers)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("device 'cuda:1' is not available: no CUDA driver");
    }

    @Test
    void autoTakesTheAvailableProviderOfHighestPriorityAndIndicesReachTheProvider() {
        Fake cuda = new Fake("cuda", 200, Availability.unavailable("no CUDA driver"));
        Fake cpu = new Fake("cpu", 100, Availability.AVAILABLE);
        Fake reference = new Fake("cpu-reference", 0, Availability.AVAILABLE);
        Backends.open("auto", 1, List.of(reference, cuda, cpu)).close();
        assertThat(cpu.indices).containsExactly(0);
        assertThat(reference.indices).isEmpty();

        Fake gpu = new Fake("cuda", 200, Availability.AVAILABLE);
        Backends.open("auto", 1, List.of(reference, cpu, gpu)).close();
        Backends.open("cuda:3", 1, List.of(reference, cpu, gpu)).close();
        assertThat(gpu.indices).containsExactly(0, 3);

        Fake noVector = new Fake("cpu", 100, Availability.unavailable("add the module"));
        Backends.open("auto", 1, List.of(noVector, reference)).close();
        assertThat(reference.indices).containsExactly(0);
        assertThatThrownBy(() -> Backends.open("auto", 1, List.of(noVector)))
                .hasMessageContaining("no available device").hasMessageContaining("cpu (unavailable: add the module)");
        assertThatThrownBy(() -> Backends.open("cpu", 1, List.of(cpu, new Fake("cpu", 5, Availability.AVAILABLE))))
                .hasMessageContaining("ambiguous");
        // an unavailable provider of the same name does not shadow the available one
        Fake realGpu = new Fake("cuda", 200, Availability.unavailable("libcuda.so.1 missing"));
        Fake testGpu = new Fake("cuda", -100, Availability.AVAILABLE);
        Backends.open("cuda:1", 1, List.of(realGpu, testGpu)).close();
        assertThat(testGpu.indices).containsExactly(1);
        assertThat(realGpu.indices).isEmpty();
        assertThatThrownBy(() -> Backends.open("cuda", 1, List.of(realGpu, new Fake("cuda", 1, Availability.unavailable("no device")))))
                .hasMessageContaining("not available").hasMessageContaining("libcuda.so.1 missing");
    }

    @Test
    void onlyDeviceWordsAreAccepted() {
        assertThatThrownBy(() -> Backends.open("simd", 2)).hasMessageContaining("unknown device 'simd'")
                .hasMessageContaining("cpu-reference");
        assertThatThrownBy(() -> Backends.open("gpu", 2)).hasMessageContaining("unknown device 'gpu'");
        assertThatThrownBy(() -> Backends.open("cpu", 0)).hasStackTraceContaining("at least 1 thread");
    }

    @Test
    void theDefaultDeviceComesFromTheSystemProperty() {
        String device = System.getProperty(Backends.DEVICE_PROPERTY);
        try {
            System.clearProperty(Backends.DEVICE_PROPERTY);
            assertThat(Backends.defaultDevice()).isEqualTo("auto");
            try (Backend b = Backends.openDefault()) {
                assertThat(b.getClass().getName()).as("auto: the fastest available").isEqualTo(VECTOR_BACKEND);
            }
            System.setProperty(Backends.DEVICE_PROPERTY, "cpu-reference");
            try (Backend b = Backends.openDefault()) {
                assertThat(b).isInstanceOf(ReferenceBackend.class);
            }
        } finally {
            restore(Backends.DEVICE_PROPERTY, device);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    /**
     * Without the Vector API module the providers still load: "cpu" says why it is unavailable,
     * "auto" falls back to the reference backend with one warning however often it is opened,
     * and asking for "cpu" fails with the fix.
     */
    @Test
    void withoutTheVectorApiAutoFallsBackAndCpuSaysWhy() throws Exception {
        String out = ChildJvm.run(WithoutVectorApi.class);
        assertThat(out).contains("module present: false")
                .contains("cpu available: false, reason: the Vector API is not enabled; start the JVM with"
                        + " --add-modules jdk.incubator.vector")
                .contains("auto: reference")
                .contains("auto again: reference")
                .contains("open cpu: device 'cpu' is not available: the Vector API is not enabled");
        // on a machine without CUDA the reasons start with "cuda: ...", then "cpu: ..."
        String warning = "WARN io.sparkmm.kernels.Backends - sparkmm: using the slow reference backend"
                + " (cpu-reference) because no faster device is available: ";
        assertThat(out).contains("cpu: the Vector API is not enabled; start the JVM with --add-modules jdk.incubator.vector");
        assertThat(out.split(java.util.regex.Pattern.quote(warning), -1)).as("warned once in:%n%s", out).hasSize(2);
    }

    /** Main of the child JVM started without {@code --add-modules jdk.incubator.vector}. */
    static final class WithoutVectorApi {
        public static void main(String[] args) {
            System.out.println("module present: " + Backends.vectorApiAvailable());
            for (Backends.Device d : Backends.devices()) {
                System.out.println(d.name() + " available: " + d.availability().available() + ", reason: "
                        + d.availability().reason());
            }
            try (Backend b = Backends.open("auto", 1)) {
                System.out.println("auto: " + b.name());
            }
            try (Backend b = Backends.open("auto", 1)) {
                System.out.println("auto again: " + b.name());
            }
            try {
                Backends.open("cpu", 1).close();
                System.out.println("open cpu: succeeded");
            } catch (IllegalStateException e) {
                System.out.println("open cpu: " + e.getMessage());
            }
        }
    }
}
