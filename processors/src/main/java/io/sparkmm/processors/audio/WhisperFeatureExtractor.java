package io.sparkmm.processors.audio;

import io.sparkmm.processors.media.AudioClip;

/**
 * Hugging Face's {@code WhisperFeatureExtractor} (its numpy path): pad or truncate to
 * {@code n_samples}, short-time Fourier transform with a periodic Hann window and reflect-padded
 * centered frames, power spectrum, Slaney mel filters up to 8 kHz, {@code log10(max(x, 1e-10))},
 * drop the last frame, floor at {@code max - 8}, and scale with {@code (x + 4) / 4}.
 *
 * <p>Internally double precision; the output is float32. Thread-safe: the window, filters and FFT
 * plan are immutable and each call allocates its own buffers.
 */
public final class WhisperFeatureExtractor {

    private static final double MEL_FLOOR = 1e-10;

    private final WhisperFeatureExtractorConfig config;
    private final int numBins;
    private final double[] window;
    private final Fft fft;
    /** Non-zero span of each mel filter: bins [melStart[m], melStart[m] + melWeights[m].length). */
    private final int[] melStart;
    private final double[][] melWeights;

    public WhisperFeatureExtractor(WhisperFeatureExtractorConfig config) {
        this.config = config;
        int nFft = config.nFft();
        this.numBins = nFft / 2 + 1;
        // Periodic Hann, as transformers' window_function(n, "hann"): numpy.hanning(n + 1)[:-1].
        this.window = new double[nFft];
        for (int i = 0; i < nFft; i++) {
            window[i] = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / nFft);
        }
        this.fft = new Fft(nFft);
        double[] filters = MelFilterBank.slaney(numBins, config.featureSize(), 0.0, 8000.0, config.samplingRate());
        // The triangles are narrow: keeping only their support makes the projection ~100x cheaper.
        this.melStart = new int[config.featureSize()];
        this.melWeights = new double[config.featureSize()][];
        for (int m = 0; m < config.featureSize(); m++) {
            int lo = 0;
            int hi = numBins;
            while (lo < numBins && filters[m * numBins + lo] == 0.0) {
                lo++;
            }
            while (hi > lo && filters[m * numBins + hi - 1] == 0.0) {
                hi--;
            }
            melStart[m] = lo;
            melWeights[m] = java.util.Arrays.copyOfRange(filters, m * numBins + lo, m * numBins + hi);
        }
    }

    public WhisperFeatureExtractorConfig config() {
        return config;
    }

    public int numMels() {
        return config.featureSize();
    }

    /** Frames of every output (3000 for 30 s). */
    public int numFrames() {
        return config.numFrames();
    }

    /**
     * Mel frames that cover real audio of {@code numSamples} samples, before padding: what the
     * Python extractor's {@code attention_mask} sums to ({@code ceil(min(n, n_samples) / hop)}), and
     * the L of Whisper-style placeholder counts.
     */
    public int numValidFrames(int numSamples) {
        int n = Math.min(Math.max(numSamples, 0), config.nSamples());
        return (n + config.hopLength() - 1) / config.hopLength();
    }

    /** {@link #extract(float[])} after checking that the clip is at the expected rate. */
    public float[] extract(AudioClip clip) {
        if (clip.sampleRate() != config.samplingRate()) {
            throw new IllegalArgumentException("audio is at " + clip.sampleRate() + " Hz but the feature extractor"
                    + " expects " + config.samplingRate() + " Hz: resample first");
        }
        return extract(clip.samples());
    }

    /**
     * Log-mel features of mono audio at {@link WhisperFeatureExtractorConfig#samplingRate()}.
     *
     * @param samples PCM [numSamples]
     * @return input_features [numMels, numFrames] row-major
     */
    public float[] extract(float[] samples) {
        return extractFrames(samples, numFrames());
    }

    /**
     * The first {@code keep} frames of {@link #extract(float[])}, bit for bit: [numMels, keep]
     * row-major. A tower that reads only a clip's frames (Qwen2.5-Omni's) asks for those.
     *
     * <p>Only the frames that read the clip are transformed. With zero padding, a frame starting half a
     * window past the clip's last sample reads only zeros (the reflected tail too, unless the clip
     * nearly fills the window), so its power is exactly 0 and its value log10 of the floor; those
     * frames are filled with that value and count in the maximum the floor is taken from, as the full
     * transform would have them. A 10 s clip in a 30 s window transforms a third of the frames; a
     * 3 s clip in Omni's 300 s window, a hundredth.
     */
    public float[] extractFrames(float[] samples, int keep) {
        int frames = numFrames();
        if (keep < 0 || keep > frames) {
            throw new IllegalArgumentException("frames to keep must be in [0, " + frames + "], got " + keep);
        }
        int nSamples = config.nSamples();
        int nFft = config.nFft();
        int half = nFft / 2;
        int hop = config.hopLength();
        int mels = numMels();
        int copied = Math.min(samples.length, nSamples);
        boolean zeroTail = config.paddingValue() == 0.0 && copied <= nSamples - 1 - half;
        // frame t reads samples t * hop - half .. t * hop + half - 1
        int computed = zeroTail ? Math.min(frames, (copied + half + hop - 1) / hop) : frames;
        int length = computed == frames ? nSamples + 2 * half
                : Math.min(nSamples + 2 * half, Math.max((computed - 1) * hop + nFft, 2 * half + 1));
        // Padded (or truncated) signal with `half` reflected samples on each side (center=True).
        double[] x = new double[length];
        for (int i = 0; i < Math.min(nSamples, length - half); i++) {
            x[half + i] = i < copied ? samples[i] : config.paddingValue();
        }
        for (int i = 1; i <= half; i++) {
            // numpy "reflect" mirrors around the edge sample without repeating it.
            x[half - i] = x[half + i];
            if (computed == frames) {
                x[half + nSamples - 1 + i] = x[half + nSamples - 1 - i];
            }
        }
        double[] re = new double[nFft];
        double[] im = new double[nFft];
        double[] sr = new double[nFft];
        double[] si = new double[nFft];
        double[] power = new double[numBins];
        double[] logMel = new double[mels * computed];
        double max = Double.NEGATIVE_INFINITY;
        // frames = n_samples // hop: the STFT has one frame more, which Whisper drops.
        for (int t = 0; t < computed; t++) {
            int start = t * hop;
            for (int i = 0; i < nFft; i++) {
                re[i] = x[start + i] * window[i];
            }
            java.util.Arrays.fill(im, 0.0);
            fft.transform(re, im, sr, si);
            for (int k = 0; k < numBins; k++) {
                power[k] = re[k] * re[k] + im[k] * im[k];
            }
            for (int m = 0; m < mels; m++) {
                double[] w = melWeights[m];
                int k0 = melStart[m];
                double e = 0;
                for (int j = 0; j < w.length; j++) {
                    e += w[j] * power[k0 + j];
                }
                double v = Math.log10(Math.max(e, MEL_FLOOR));
                logMel[m * computed + t] = v;
                max = Math.max(max, v);
            }
        }
        double silent = Math.log10(Math.max(0.0, MEL_FLOOR));   // an all-zero frame's value
        if (computed < frames) {
            max = Math.max(max, silent);
        }
        double floor = max - 8.0;
        float[] out = new float[mels * keep];
        for (int m = 0; m < mels; m++) {
            for (int t = 0; t < keep; t++) {
                double v = t < computed ? logMel[m * computed + t] : silent;
                out[m * keep + t] = (float) ((Math.max(v, floor) + 4.0) / 4.0);
            }
        }
        return out;
    }
}
