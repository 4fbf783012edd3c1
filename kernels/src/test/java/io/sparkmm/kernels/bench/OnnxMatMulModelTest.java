package io.sparkmm.kernels.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The hand-written ONNX model the GEMM benchmark gives ONNX Runtime: ORT must load it, take any
 * n for the symbolic batch dimension, and compute x @ w^T, checked against a double-precision sum
 * computed here.
 */
class OnnxMatMulModelTest {

    @Test
    void ortComputesTheMatMulOfTheWrittenModel() throws Exception {
        int k = 37;
        int m = 5;
        Random random = new Random(3);
        float[] w = new float[m * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(OnnxMatMulModel.of(w, m, k), so)) {
            for (int n : new int[] {1, 3}) {
                float[][] x = new float[n][k];
                for (float[] row : x) {
                    for (int p = 0; p < k; p++) {
                        row[p] = (float) random.nextGaussian();
                    }
                }
                try (OnnxTensor xt = OnnxTensor.createTensor(env, x);
                     OrtSession.Result r = session.run(Map.of("x", xt))) {
                    float[][] y = (float[][]) r.get(0).getValue();
                    assertThat(y.length).isEqualTo(n);
                    for (int i = 0; i < n; i++) {
                        assertThat(y[i]).hasSize(m);
                        for (int j = 0; j < m; j++) {
                            double expected = 0;
                            for (int p = 0; p < k; p++) {
                                expected += (double) x[i][p] * w[j * k + p];
                            }
                            assertThat((double) y[i][j]).as("y[%d][%d], n=%d", i, j, n).isCloseTo(expected, within(1e-4));
                        }
                    }
                }
            }
        }
    }
}
