package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.BackendProvider.Availability;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How CUDA's absence is reported: never an error while probing or listing, always a reason. */
class CudaAvailabilityTest {

    @Test
    void aMissingDriverLibraryIsNamed() {
        Cuda.Probe p = Cuda.probe(() -> {
            throw new UnsatisfiedLinkError("no jnicudart in java.library.path: libcuda.so.1: cannot open shared object file");
        });
        assertThat(p.availability().available()).isFalse();
        assertThat(p.availability().reason()).startsWith("could not load the CUDA driver library libcuda.so.1")
                .contains("UnsatisfiedLinkError");
        assertThat(Cuda.probe(() -> {
            throw new NoClassDefFoundError("org/bytedeco/cuda/global/cudart");
        }).availability().reason()).contains("bytedeco cuda classes");
        assertThat(Cuda.probe(() -> {
            throw new UnsatisfiedLinkError("libcudart.so.13: cannot open shared object file");
        }).availability().reason()).contains("libcudart.so.13").contains("LD_LIBRARY_PATH");
    }

    @Test
    void aDriverWithoutDevicesOrFailingInitIsNamed() {
        FakeCudaApi none = new FakeCudaApi();
        none.devices = 0;
        assertThat(Cuda.probe(() -> none).availability().reason()).startsWith("no CUDA device");
        FakeCudaApi failing = new FakeCudaApi();
        failing.failNext("cuInit", 100, "CUDA_ERROR_NO_DEVICE");
        assertThat(Cuda.probe(() -> failing).availability().reason())
                .contains("cuInit failed: CUDA_ERROR_NO_DEVICE (100)");
        Cuda.Probe ok = Cuda.probe(FakeCudaApi::new);
        assertThat(ok.availability()).isEqualTo(Availability.AVAILABLE);
        assertThat(ok.devices()).isEqualTo(1);
    }

    /** On this machine: the real probe answers without throwing, and the listing shows it. */
    @Test
    void theRealProbeAnswersAndTheListingStaysFine() {
        Availability a = Cuda.availability();
        assertThat(Backends.devices()).contains(new Backends.Device("cuda", 200, a));
        if (a.available()) {
            assertThat(Cuda.deviceCount()).isPositive();
        } else {
            System.out.println("CUDA here: " + a.reason());
            assertThat(a.reason()).containsAnyOf("could not load", "no CUDA device", "did not start");
            assertThat(Cuda.deviceCount()).isZero();
            assertThatThrownBy(() -> Backends.open("cuda", 1)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("device 'cuda' is not available: " + a.reason());
            assertThatThrownBy(() -> new CudaBackendProvider().create(0, 1)).isInstanceOf(IllegalStateException.class);
        }
    }
}
