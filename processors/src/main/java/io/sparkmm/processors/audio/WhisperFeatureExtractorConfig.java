package io.sparkmm.processors.audio;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.processors.ConfigReader;
import java.nio.file.Path;

/**
 * The settings of Hugging Face's {@code WhisperFeatureExtractor} from a {@code preprocessor_config.json}.
 * Absent keys take the Python class's defaults (80 mels, 16 kHz, hop 160, n_fft 400, 30 s chunks).
 *
 * @param featureSize  number of mel filters (80, or 128 for large-v3)
 * @param samplingRate samples per second the model expects
 * @param hopLength    samples between frames
 * @param nFft         FFT (and Hann window) length
 * @param chunkLength  seconds per input
 * @param nSamples     samples per input: shorter audio is padded, longer truncated
 * @param paddingValue value of the padded samples
 */
public record WhisperFeatureExtractorConfig(
        int featureSize, int samplingRate, int hopLength, int nFft, int chunkLength, int nSamples,
        double paddingValue) {


    public WhisperFeatureExtractorConfig {
        if (featureSize <= 0 || samplingRate <= 0 || hopLength <= 0 || nFft <= 1 || nSamples <= 0) {
            throw new IllegalArgumentException("feature_size, sampling_rate, hop_length, n_fft and n_samples must be"
                    + " positive (n_fft > 1), got " + featureSize + ", " + samplingRate + ", " + hopLength + ", "
                    + nFft + ", " + nSamples);
        }
        if (nSamples <= nFft / 2) {
            throw new IllegalArgumentException("n_samples (" + nSamples + ") must exceed n_fft / 2 ("
                    + nFft / 2 + ") for reflect padding");
        }
    }

    /** openai/whisper-* (except large-v3): 80 mels, 16 kHz, 30 s. */
    public static WhisperFeatureExtractorConfig whisper80() {
        return new WhisperFeatureExtractorConfig(80, 16000, 160, 400, 30, 480000, 0.0);
    }

    /** Frames of the log-mel output, {@code n_samples // hop_length} (nb_max_frames, 3000 for 30 s). */
    public int numFrames() {
        return nSamples / hopLength;
    }

    public static WhisperFeatureExtractorConfig load(Path preprocessorConfigJson) {
        return fromJson(ConfigReader.read(preprocessorConfigJson), preprocessorConfigJson.toString());
    }

    public static WhisperFeatureExtractorConfig fromJson(JsonNode root, String source) {
        ConfigReader r = new ConfigReader(root, source);
        // Python's WhisperFeatureExtractor calls it feature_size; some configs also say num_mel_bins/n_mels.
        int featureSize = r.positive("feature_size",
                r.positive("num_mel_bins", r.positive("n_mels", 80)));
        int samplingRate = r.positive("sampling_rate", 16000);
        int hopLength = r.positive("hop_length", 160);
        int nFft = r.positive("n_fft", 400);
        int chunkLength = r.positive("chunk_length", 30);
        int nSamples = r.positive("n_samples", chunkLength * samplingRate);
        if (r.has("nb_max_frames") && r.integer("nb_max_frames", 0) != nSamples / hopLength) {
            throw r.error("nb_max_frames", "is " + r.integer("nb_max_frames", 0) + " but n_samples / hop_length is "
                    + nSamples / hopLength);
        }
        if (r.number("dither", 0.0) != 0.0) {
            // Dither adds random noise: outputs would not be reproducible, and Whisper never uses it.
            throw r.error("dither", "is not supported (must be 0.0), got " + r.number("dither", 0.0));
        }
        try {
            return new WhisperFeatureExtractorConfig(featureSize, samplingRate, hopLength, nFft, chunkLength, nSamples,
                    r.number("padding_value", 0.0));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }
}
