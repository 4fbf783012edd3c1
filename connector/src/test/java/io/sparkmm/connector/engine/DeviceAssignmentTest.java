package io.sparkmm.connector.engine;

import io.sparkmm.connector.engine.DeviceAssignment.Resolution;
import io.sparkmm.kernels.BackendProvider.Availability;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The device rules on fake task resources: no Spark, no backend, just the decision and its note. */
class DeviceAssignmentTest {

    private static final Availability CUDA_OK = Availability.AVAILABLE;
    private static final Availability NO_CUDA = Availability.unavailable("no 'cuda' backend is registered");
    private static final List<String> NONE = List.of();

    private static Resolution resolve(String device, List<String> gpus, Availability cuda) {
        return DeviceAssignment.resolve(device, "auto", gpus, cuda);
    }

    @Test
    void cudaWithoutAnIndexTakesTheTasksGpu() {
        Resolution r = resolve("cuda", List.of("3"), CUDA_OK);
        assertThat(r.device()).isEqualTo("cuda:3");
        assertThat(r.note()).isNull();
        assertThat(resolve(" CUDA ", List.of("1"), CUDA_OK).device()).isEqualTo("cuda:1");
    }

    @Test
    void cudaWithoutGpuResourcesUsesGpuZeroAndSaysWhyAndHowToFixIt() {
        Resolution r = resolve("cuda", NONE, CUDA_OK);
        assertThat(r.device()).isEqualTo("cuda:0");
        assertThat(r.note()).contains("no GPU").contains("spark.task.resource.gpu.amount")
                .contains("spark.executor.resource.gpu.amount").contains("shares GPU 0");
    }

    @Test
    void severalGpusForOneTaskUseTheFirstAndSaySo() {
        Resolution r = resolve("cuda", List.of("2", "0"), CUDA_OK);
        assertThat(r.device()).isEqualTo("cuda:2");
        assertThat(r.note()).contains("2 GPUs").contains("[2, 0]").contains("cuda:2")
                .contains("spark.task.resource.gpu.amount=1");
    }

    @Test
    void anExplicitIndexWinsAndAMismatchWithSparksAssignmentIsNoted() {
        Resolution same = resolve("cuda:1", List.of("1"), CUDA_OK);
        assertThat(same.device()).isEqualTo("cuda:1");
        assertThat(same.note()).isNull();

        Resolution other = resolve("cuda:1", List.of("3"), CUDA_OK);
        assertThat(other.device()).isEqualTo("cuda:1");
        assertThat(other.note()).contains("cuda:1").contains("[3]").contains("device 'cuda'");

        Resolution noResources = resolve("cuda:1", NONE, CUDA_OK);
        assertThat(noResources.device()).isEqualTo("cuda:1");
        assertThat(noResources.note()).as("nothing to disagree with").isNull();

        assertThat(resolve("cuda:01", List.of("1"), CUDA_OK).device()).as("one spelling per GPU").isEqualTo("cuda:1");
        assertThat(resolve("cuda:x", List.of("1"), CUDA_OK).device())
                .as("left for Backends.open to reject with its own message").isEqualTo("cuda:x");
    }

    @Test
    void autoTakesTheTasksGpuOnlyWhenACudaBackendIsAvailable() {
        assertThat(resolve("auto", List.of("1"), CUDA_OK)).isEqualTo(new Resolution("cuda:1", null));
        assertThat(resolve(null, List.of("0"), CUDA_OK).device()).as("no device option = auto").isEqualTo("cuda:0");

        Resolution noBackend = resolve("auto", List.of("1"), NO_CUDA);
        assertThat(noBackend.device()).as("the CPU choice, as without GPUs").isEqualTo("auto");
        assertThat(noBackend.note()).contains("GPU 1").contains("no 'cuda' backend is registered");

        Resolution noGpu = resolve("auto", NONE, CUDA_OK);
        assertThat(noGpu).as("no GPU resources: as before GPUs were mapped").isEqualTo(new Resolution("auto", null));

        Resolution several = resolve("auto", List.of("0", "1"), CUDA_OK);
        assertThat(several.device()).isEqualTo("cuda:0");
        assertThat(several.note()).startsWith("device 'auto': ").contains("2 GPUs");
    }

    @Test
    void autoFollowsTheExecutorsDefaultDeviceBeforeTheTasksGpus() {
        assertThat(DeviceAssignment.resolve("auto", "reference", List.of("1"), CUDA_OK))
                .as("an executor pinned to the CPU stays there").isEqualTo(new Resolution("cpu-reference", null));
        assertThat(DeviceAssignment.resolve("auto", "cuda", List.of("1"), CUDA_OK).device()).isEqualTo("cuda:1");
        assertThat(DeviceAssignment.resolve(null, null, NONE, CUDA_OK).device()).isEqualTo("auto");
        assertThat(DeviceAssignment.resolve("cpu", "cuda", List.of("1"), CUDA_OK).device())
                .as("an explicit word is not replaced by the default").isEqualTo("cpu");
    }

    @Test
    void cpuWordsIgnoreGpuResources() {
        assertThat(resolve("cpu", List.of("1"), CUDA_OK)).isEqualTo(new Resolution("cpu", null));
        assertThat(resolve("simd", List.of("1"), CUDA_OK).device()).isEqualTo("cpu");
        assertThat(resolve("cpu-reference", List.of("0", "1"), CUDA_OK)).isEqualTo(new Resolution("cpu-reference", null));
    }

    @Test
    void aGpuAddressThatIsNotAnIndexFailsNamingTheDiscoveryScript() {
        assertThatThrownBy(() -> resolve("cuda", List.of("GPU-8f3a"), CUDA_OK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'GPU-8f3a'")
                .hasMessageContaining("spark.executor.resource.gpu.discoveryScript");
        assertThatThrownBy(() -> resolve("auto", List.of("-1"), CUDA_OK)).isInstanceOf(IllegalArgumentException.class);
    }
}
