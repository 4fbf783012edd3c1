package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.cuda.CudaApi.Dim3;
import io.sparkmm.kernels.cuda.LaunchGeometry.Launch;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The header's launch geometry, computed from shapes on the CPU. */
class LaunchGeometryTest {

    /**
     * The cuBLAS-free GEMM mapping: out[n, m] in 64 x 64 tiles, grid x over the m output
     * features, grid y over the n rows, 16 x 16 threads each owning 4 x 4 outputs.
     */
    @Test
    void matmulTilesOutColumnsOnXAndRowsOnY() {
        Launch g = LaunchGeometry.matmul(130, 4096, 11008);
        assertThat(g.grid()).isEqualTo(new Dim3(172, 3, 1));
        assertThat(g.block()).isEqualTo(new Dim3(16, 16, 1));
        assertThat(g.block().volume() * 16).as("threads x 4x4 outputs = one tile").isEqualTo(64 * 64);
        assertThat(g.sharedBytes()).isZero();
        assertThat(LaunchGeometry.matmul(1, 7, 1).grid()).isEqualTo(new Dim3(1, 1, 1));
        assertThat(LaunchGeometry.matmul(64, 7, 64).grid()).isEqualTo(new Dim3(1, 1, 1));
        assertThat(LaunchGeometry.matmul(65, 7, 65).grid()).isEqualTo(new Dim3(2, 2, 1));
        assertThat(LaunchGeometry.matmul(0, 7, 5).isEmpty()).isTrue();
    }

    @Test
    void matmulRefusesRowsBeyondTheGridYLimitAndAnEmptyK() {
        assertThat(LaunchGeometry.matmul(65535 * 64, 8, 8).grid().y()).isEqualTo(65535);
        assertThatThrownBy(() -> LaunchGeometry.matmul(65535 * 64 + 1, 8, 8))
                .hasMessageContaining("row tiles").hasMessageContaining("split the batch");
        assertThatThrownBy(() -> LaunchGeometry.matmul(4, 0, 8)).hasMessageContaining("k must be positive");
    }

    @Test
    void rowAndElementwiseKernels() {
        assertThat(LaunchGeometry.perRow(17)).isEqualTo(new Launch(Dim3.of(17), Dim3.of(256), 0));
        assertThat(LaunchGeometry.elementwise(1).grid().x()).isEqualTo(1);
        assertThat(LaunchGeometry.elementwise(256).grid().x()).isEqualTo(1);
        assertThat(LaunchGeometry.elementwise(257).grid().x()).isEqualTo(2);
        assertThat(LaunchGeometry.elementwise(3L << 30).grid().x()).isEqualTo((int) ((3L << 30) / 256));
        assertThat(LaunchGeometry.elementwise(0).isEmpty()).isTrue();
        assertThatThrownBy(() -> LaunchGeometry.elementwise(256L * Integer.MAX_VALUE + 257))
                .hasMessageContaining("more than a grid holds");
    }

    @Test
    void ropeBlockIsHalfTheRowCappedAt256() {
        assertThat(LaunchGeometry.rope(5, 2, 64).block()).isEqualTo(Dim3.of(64));
        assertThat(LaunchGeometry.rope(5, 32, 128).block()).isEqualTo(Dim3.of(256));
        assertThat(LaunchGeometry.rope(5, 32, 128).grid()).isEqualTo(Dim3.of(5));
        assertThatThrownBy(() -> LaunchGeometry.rope(5, 2, 63)).hasMessageContaining("head dim even");
    }

    @Test
    void attentionBlockIsTheHeadDimRoundedUpToAWarp() {
        assertThat(LaunchGeometry.attention(9, 28, 128)).isEqualTo(new Launch(Dim3.of(9, 28), Dim3.of(128), 0));
        assertThat(LaunchGeometry.attention(9, 4, 80).block()).isEqualTo(Dim3.of(96));
        assertThat(LaunchGeometry.attention(9, 4, 1).block()).isEqualTo(Dim3.of(32));
        assertThat(LaunchGeometry.attention(9, 4, 256).block()).isEqualTo(Dim3.of(256));
        assertThatThrownBy(() -> LaunchGeometry.attention(9, 4, 257)).hasMessageContaining("head dim 257 outside 1..256");
        assertThatThrownBy(() -> LaunchGeometry.attention(9, 70000, 64)).hasMessageContaining("heads outside");
    }

    @Test
    void kvWriteBlockIsOneTokensHeadsCappedAt256() {
        assertThat(LaunchGeometry.kvWrite(3, 2, 64)).isEqualTo(new Launch(Dim3.of(3), Dim3.of(128), 0));
        assertThat(LaunchGeometry.kvWrite(3, 8, 128).block()).isEqualTo(Dim3.of(256));
    }

    @Test
    void launchesRespectTheDeviceLimits() {
        assertThatThrownBy(() -> new Launch(Dim3.of(1), Dim3.of(32, 33), 0)).hasMessageContaining("1..1024 threads");
        assertThatThrownBy(() -> new Launch(Dim3.of(1, 65536), Dim3.of(32), 0)).hasMessageContaining("grid");
        assertThatThrownBy(() -> new Launch(Dim3.of(1), Dim3.of(32), 48 * 1024 + 1)).hasMessageContaining("shared bytes");
        assertThat(new Launch(Dim3.of(1), Dim3.of(1024), 48 * 1024).sharedBytes()).isEqualTo(48 * 1024);
    }
}
