package io.sparkmm.engine.models.qwen2audio;

/**
 * How many positions survive each stage of the Qwen2-Audio encoder for a clip of {@code L} valid
 * mel frames (the feature attention mask's sum, {@code ceil(min(samples, 30 s) / hop)}): conv2's
 * stride 2 (kernel 3, padding 1) keeps {@code floor((L - 1) / 2) + 1} positions, the ones the
 * encoder's attention lets through as keys, and the average pool (kernel 2, stride 2) keeps
 * {@code floor((P - 2) / 2) + 1} of those, one {@code <|AUDIO|>} token each.
 *
 * <p>Floor division as Python's {@code //}: a clip of 1 or 2 frames (up to 320 samples) gets 0
 * tokens, as Hugging Face's processor computes it, where Java's {@code /} would say 1.
 */
public final class Qwen2AudioLengths {

    private Qwen2AudioLengths() {
    }

    /** Positions after conv2 that hold real audio: the attention keys. */
    public static int encoderPositions(int validFrames) {
        requireNonNegative(validFrames);
        return Math.floorDiv(validFrames - 1, 2) + 1;
    }

    /** {@code <|AUDIO|>} tokens of a clip: pooled positions made only of real-audio positions. */
    public static int audioTokens(int validFrames) {
        return Math.floorDiv(encoderPositions(validFrames) - 2, 2) + 1;
    }

    private static void requireNonNegative(int validFrames) {
        if (validFrames < 0) {
            throw new IllegalArgumentException("valid frames must be >= 0, got " + validFrames);
        }
    }
}
