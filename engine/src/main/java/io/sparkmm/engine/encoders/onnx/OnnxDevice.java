package io.sparkmm.engine.encoders.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.util.Locale;

/**
 * The ONNX Runtime execution provider that follows the engine's {@code device}: the CPU provider for
 * the CPU backends, CUDA device N for {@code cuda:N}. The Maven artifact {@code onnxruntime} is the
 * CPU build; CUDA needs {@code onnxruntime_gpu} (CUDA 12) on the class path in its place.
 *
 * @param cudaIndex the CUDA device, or -1 for the CPU provider
 */
record OnnxDevice(int cudaIndex) {

    static final OnnxDevice CPU = new OnnxDevice(-1);

    /**
     * From the backend's name ("reference", "simd(2 threads, ...)", "cuda:1 (NVIDIA H200, sm 90)"):
     * CUDA device N for a cuda backend, else CPU.
     */
    static OnnxDevice forBackend(String backendName) {
        String b = backendName == null ? "" : backendName.strip().toLowerCase(Locale.ROOT);
        if (!b.startsWith("cuda")) {
            return CPU;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^cuda:(\\d+)").matcher(b);
        return new OnnxDevice(m.find() ? Integer.parseInt(m.group(1)) : 0);
    }

    void configure(OrtSession.SessionOptions options) throws OrtException {
        if (cudaIndex >= 0) {
            try {
                options.addCUDA(cudaIndex);
            } catch (OrtException | RuntimeException e) {
                throw new OrtException("ONNX Runtime's CUDA execution provider is not available (the onnxruntime jar"
                        + " is the CPU build; put com.microsoft.onnxruntime:onnxruntime_gpu, CUDA 12, on the class"
                        + " path instead): " + e.getMessage());
            }
        }
    }

    @Override
    public String toString() {
        return cudaIndex < 0 ? "CPU" : "CUDA:" + cudaIndex;
    }
}
