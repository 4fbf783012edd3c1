package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cuda.Kernel.P;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Java table of kernels against the ABI header, and the codes the header defines. */
class KernelAbiTest {

    @Test
    void everyHeaderKernelIsInTheTableWithItsParameters() {
        Map<String, List<P>> header = AbiHeader.kernels();
        Map<String, List<P>> java = Arrays.stream(Kernel.values())
                .collect(Collectors.toMap(Kernel::symbol, Kernel::params));
        assertThat(java).isEqualTo(header);
        assertThat(header).hasSize(14).containsEntry("sparkmm_silu_mul", List.of(P.PTR, P.PTR, P.PTR, P.I64));
    }

    @Test
    void dtypeAndActivationCodesAreTheHeaders() {
        assertThat(Kernel.dtypeCode(DType.F32)).isZero();
        assertThat(Kernel.dtypeCode(DType.BF16)).isEqualTo(1);
        assertThat(Kernel.dtypeCode(DType.F16)).isEqualTo(2);
        assertThat(Kernel.activationCode(Activation.SILU)).isZero();
        assertThat(Kernel.activationCode(Activation.GELU_ERF)).isEqualTo(1);
        assertThat(Kernel.activationCode(Activation.GELU_TANH)).isEqualTo(2);
        assertThat(Kernel.activationCode(Activation.QUICK_GELU)).isEqualTo(3);
    }

    @Test
    void argumentListsAreCheckedBeforeALaunch() {
        assertThatThrownBy(() -> Kernel.ADD.check(List.of(CudaApi.KernelArg.ptr(1))))
                .hasMessageContaining("sparkmm_add takes 4 arguments, got 1");
        assertThatThrownBy(() -> Kernel.ADD.check(List.of(CudaApi.KernelArg.ptr(1), CudaApi.KernelArg.ptr(2),
                CudaApi.KernelArg.ptr(3), CudaApi.KernelArg.i32(4))))
                .hasMessageContaining("sparkmm_add argument 3 must be I64");
    }

    @Test
    void aMissingFatbinIsNamedWithHowToBuildIt() {
        assertThatThrownBy(() -> KernelModule.image(getClass().getClassLoader(), "io/sparkmm/kernels/cuda/none.fatbin"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("io/sparkmm/kernels/cuda/none.fatbin")
                .hasMessageContaining("scripts/build-kernels.sh");
    }
}
