package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.MemoryBudget;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Memory planning: the usable fraction of free device memory and the KV pool sizes it buys. */
class GpuMemoryUtilizationTest {

    @Test
    void defaultIsNinetyPercentOfFree() {
        GpuMemoryUtilization u = GpuMemoryUtilization.parse(null);
        assertThat(u.fraction()).isEqualTo(0.9);
        assertThat(u.usable(1000)).isEqualTo(900);
        assertThat(u.usable(0)).isZero();
        assertThat(u.usable(-5)).isZero();
    }

    @Test
    void budgetNamesTheDeviceAndHowToRaiseIt() {
        MemoryBudget b = GpuMemoryUtilization.parse("0.5").budget("cuda:1", 10_000);
        assertThat(b.availableBytes()).isEqualTo(5000);
        assertThat(b.kind()).contains("CUDA device memory").contains("cuda:1");
        assertThat(b.howToRaise()).contains("-Dsparkmm.gpuMemoryUtilization").contains("now 0.5");
    }

    @Test
    void badFractionsAreRefusedNamingTheProperty() {
        for (String bad : new String[] {"0", "-0.1", "1.01", "NaN", "ninety"}) {
            assertThatThrownBy(() -> GpuMemoryUtilization.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sparkmm.gpuMemoryUtilization");
        }
        assertThat(GpuMemoryUtilization.parse(" 1 ").fraction()).isEqualTo(1.0);
    }

    @Test
    void kvPoolSizing() {
        // a 7B-like model: 28 layers, 4 KV heads x 128, blocks of 16; BF16 halves the bytes of F32
        long f32 = KvCache.bytesPerBlock(28, 16, 4, 128, DType.F32);
        long bf16 = KvCache.bytesPerBlock(28, 16, 4, 128, DType.BF16);
        assertThat(bf16 * 2).isEqualTo(f32);
        long usable = GpuMemoryUtilization.of(0.9).usable(100L << 30);
        assertThat(usable / bf16).isEqualTo(((long) (0.9 * (100L << 30))) / (2L * 28 * 16 * 4 * 128 * 2));
        assertThat(CudaKvCache.layerBytes(28, 1000, 16, 4, 128, DType.BF16)).isEqualTo(1000L * 16 * 4 * 128 * 2);
        assertThatThrownBy(() -> CudaKvCache.layerBytes(28, 1 << 28, 16, 4, 128, DType.BF16))
                .hasMessageContaining("exceed 2^31 - 1");
        assertThatThrownBy(() -> CudaKvCache.layerBytes(28, 0, 16, 4, 128, DType.BF16))
                .hasMessageContaining("must be positive");
    }
}
