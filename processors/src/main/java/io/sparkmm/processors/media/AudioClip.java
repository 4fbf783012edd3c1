package io.sparkmm.processors.media;

import java.util.Arrays;

/**
 * Decoded audio: mono float samples, nominally in [-1, 1], at {@code sampleRate} Hz.
 *
 * <p>The array is not copied; treat it as immutable. Equality compares the samples.
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

    public double durationSeconds() {
        return samples.length / (double) sampleRate;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AudioClip other && sampleRate == other.sampleRate
                && Arrays.equals(samples, other.samples);
    }

    @Override
    public int hashCode() {
        return 31 * sampleRate + Arrays.hashCode(samples);
    }

    @Override
    public String toString() {
        return "AudioClip[" + samples.length + " samples @ " + sampleRate + " Hz]";
    }
}
