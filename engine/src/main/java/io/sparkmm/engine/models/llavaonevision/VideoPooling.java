package io.sparkmm.engine.models.llavaonevision;

/**
 * LLaVA-OneVision's pooling of a video frame's features (transformers'
 * {@code LlavaOnevisionModel.apply_pooling}): the frame's side x side grid of projected features is
 * shrunk to ceil(side / 2) x ceil(side / 2) by PyTorch's bilinear interpolation without corner
 * alignment ({@link AnyResFeatures#bilinear}), rows kept row-major. Pure arithmetic on heap arrays.
 */
final class VideoPooling {

    private VideoPooling() {
    }

    /**
     * @param features [frames, side^2, dim] flattened, each frame's grid row-major
     * @return [frames, ceil(side/2)^2, dim] flattened
     */
    static float[] pool(float[] features, int frames, int side, int dim) {
        int per = side * side * dim;
        if (features.length != (long) frames * per) {
            throw new IllegalArgumentException("expected " + frames + " x " + side + "^2 x " + dim + " features, got "
                    + features.length);
        }
        int half = (side + 1) / 2;
        int outPer = half * half * dim;
        float[] out = new float[frames * outPer];
        for (int f = 0; f < frames; f++) {
            float[] frame = java.util.Arrays.copyOfRange(features, f * per, (f + 1) * per);
            System.arraycopy(AnyResFeatures.bilinear(frame, side, side, half, half, dim), 0, out, f * outPer, outPer);
        }
        return out;
    }
}
