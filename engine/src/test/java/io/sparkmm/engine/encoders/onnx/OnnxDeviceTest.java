package io.sparkmm.engine.encoders.onnx;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The execution provider follows the backend's name as the kernels' backends spell it. */
class OnnxDeviceTest {

    @Test
    void cudaBackendsGetTheirDeviceAndEveryOtherBackendTheCpu() {
        assertThat(OnnxDevice.forBackend("cuda:1 (NVIDIA H200, sm 90)")).isEqualTo(new OnnxDevice(1));
        assertThat(OnnxDevice.forBackend("cuda:0")).isEqualTo(new OnnxDevice(0));
        assertThat(OnnxDevice.forBackend("cuda")).isEqualTo(new OnnxDevice(0));
        assertThat(OnnxDevice.forBackend("simd(2 threads, 8 lanes)")).isEqualTo(OnnxDevice.CPU);
        assertThat(OnnxDevice.forBackend("reference")).isEqualTo(OnnxDevice.CPU);
        assertThat(OnnxDevice.forBackend("cuda:3 (X)").toString()).isEqualTo("CUDA:3");
        assertThat(OnnxDevice.CPU.toString()).isEqualTo("CPU");
    }
}
