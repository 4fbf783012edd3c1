package io.sparkmm.processors.audio;

/**
 * Triangular mel filters as transformers' {@code audio_utils.mel_filter_bank} builds them with
 * {@code norm="slaney", mel_scale="slaney"} (librosa's defaults, used by Whisper): band edges evenly
 * spaced on the Slaney mel scale (linear below 1 kHz, logarithmic above), triangles evaluated at the
 * FFT bin frequencies {@code linspace(0, sampling_rate // 2, num_frequency_bins)}, each scaled by
 * {@code 2 / (upper edge - lower edge)} so that filters have equal area.
 */
final class MelFilterBank {

    private static final double MIN_LOG_HERTZ = 1000.0;
    private static final double MIN_LOG_MEL = 15.0;
    /** Mels per unit of log(Hz) above 1 kHz: 27 mels span a factor 6.4. */
    private static final double MELS_PER_LOG_HZ = 27.0 / Math.log(6.4);

    private MelFilterBank() {
    }

    static double hertzToMel(double hz) {
        return hz >= MIN_LOG_HERTZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HERTZ) * MELS_PER_LOG_HZ : 3.0 * hz / 200.0;
    }

    static double melToHertz(double mel) {
        return mel >= MIN_LOG_MEL ? MIN_LOG_HERTZ * Math.exp((Math.log(6.4) / 27.0) * (mel - MIN_LOG_MEL)) : 200.0 * mel / 3.0;
    }

    /** numpy.linspace: start + i * step, with the last point exactly {@code stop}. */
    static double[] linspace(double start, double stop, int num) {
        double[] out = new double[num];
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) {
            out[i] = start + i * step;
        }
        out[num - 1] = stop;
        return out;
    }

    /**
     * The filter weights.
     *
     * @return [numMelFilters, numFrequencyBins] row-major
     */
    static double[] slaney(int numFrequencyBins, int numMelFilters, double minFrequency, double maxFrequency,
            int samplingRate) {
        double[] melEdges = linspace(hertzToMel(minFrequency), hertzToMel(maxFrequency), numMelFilters + 2);
        double[] edges = new double[melEdges.length];
        for (int i = 0; i < edges.length; i++) {
            edges[i] = melToHertz(melEdges[i]);
        }
        double[] fftFreqs = linspace(0, samplingRate / 2, numFrequencyBins);
        double[] out = new double[numMelFilters * numFrequencyBins];
        for (int m = 0; m < numMelFilters; m++) {
            double lower = edges[m];
            double center = edges[m + 1];
            double upper = edges[m + 2];
            double enorm = 2.0 / (upper - lower);
            for (int k = 0; k < numFrequencyBins; k++) {
                double f = fftFreqs[k];
                // transformers: max(0, min(-(lower - f) / (center - lower), (upper - f) / (upper - center)))
                double down = -(lower - f) / (center - lower);
                double up = (upper - f) / (upper - center);
                out[m * numFrequencyBins + k] = Math.max(0.0, Math.min(down, up)) * enorm;
            }
        }
        return out;
    }
}
