package io.sparkmm.engine.bench;

import io.sparkmm.engine.checkpoint.ModelConfig;

/** Bytes of weights a decoder reads to produce one token: the roofline's numerator. */
final class WeightBytes {

    private WeightBytes() {
    }

    /**
     * Every layer's projections, biases and norms, the final norm, the output head (the tied
     * embedding counts once, as the head) and the one embedding row looked up, at
     * {@code bytesPerValue} each.
     */
    static double perDecodeToken(ModelConfig c, int bytesPerValue) {
        long h = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        long f = c.intermediateSize();
        long layer = h * q + 2 * h * kv + q * h + 3 * h * f + 2 * h;
        if (c.qkvBias()) {
            layer += q + 2 * kv;
        }
        if (c.oBias()) {
            layer += h;
        }
        if (c.mlpBias()) {
            layer += 2 * f + h;
        }
        long values = c.numLayers() * layer + h + (long) c.vocabSize() * h + h;
        return (double) values * bytesPerValue;
    }
}
