package io.sparkmm.processors.media;

/**
 * Decoded mono audio.
 *
 * @param samples    PCM samples [numSamples], nominally in [-1, 1]
 * @param sampleRate samples per second, > 0
 */
public record AudioClip(float[] samples, int sampleRate) {

    public AudioClip {
        if (samples == null) {
            throw new IllegalArgumentException("samples must not be null");
        }
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("sampleRate must be positive, got " + sampleRate);
        }
    }
}
