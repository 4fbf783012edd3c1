package io.sparkmm.processors.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkmm.processors.TestMedia;
import io.sparkmm.processors.media.AudioClip;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WhisperFeatureExtractorTest {

    @Test
    void loadsWhisperConfigsAndIgnoresStoredFilters(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("preprocessor_config.json");
        // Old Whisper configs carry "mel_filters"; Python recomputes them, and so do we.
        Files.writeString(file, """
                {"chunk_length": 30, "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 128,
                 "hop_length": 160, "mel_filters": [[0.0]], "n_fft": 400, "n_samples": 480000,
                 "nb_max_frames": 3000, "padding_side": "right", "padding_value": 0.0,
                 "processor_class": "WhisperProcessor", "return_attention_mask": false, "sampling_rate": 16000}""");
        WhisperFeatureExtractorConfig c = WhisperFeatureExtractorConfig.load(file);
        assertThat(c.featureSize()).isEqualTo(128);
        WhisperFeatureExtractor x = new WhisperFeatureExtractor(c);
        assertThat(x.extract(TestMedia.syntheticAudio(0.5, 16000, 1))).hasSize(128 * 3000);
    }

    @Test
    void badConfigsNameTheKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("preprocessor_config.json");
        Files.writeString(file, "{\"hop_length\": 0}");
        assertThatThrownBy(() -> WhisperFeatureExtractorConfig.load(file))
                .hasMessageContaining(file.toString()).hasMessageContaining("\"hop_length\"");
        Files.writeString(file, "{\"nb_max_frames\": 1500}");
        assertThatThrownBy(() -> WhisperFeatureExtractorConfig.load(file)).hasMessageContaining("nb_max_frames");
        Files.writeString(file, "{\"dither\": 1e-5}");
        assertThatThrownBy(() -> WhisperFeatureExtractorConfig.load(file)).hasMessageContaining("dither");
    }

    @Test
    void validFramesBeforePadding() {
        WhisperFeatureExtractor x = new WhisperFeatureExtractor(WhisperFeatureExtractorConfig.whisper80());
        assertThat(x.numValidFrames(16000)).isEqualTo(100);
        assertThat(x.numValidFrames(16001)).isEqualTo(101); // attention_mask[::160] counts the partial hop
        assertThat(x.numValidFrames(116800)).isEqualTo(730); // 7.3 s
        assertThat(x.numValidFrames(35 * 16000)).isEqualTo(3000);
        assertThat(x.numValidFrames(0)).isZero();
    }

    @Test
    void silenceIsTheFloorAndRatesAreChecked() {
        WhisperFeatureExtractor x = new WhisperFeatureExtractor(WhisperFeatureExtractorConfig.whisper80());
        // all log10(1e-10) = -10, max - 8 = -18 does not bite: (-10 + 4) / 4 = -1.5 everywhere
        assertThat(x.extract(new float[0])).containsOnly(-1.5f);
        assertThatThrownBy(() -> x.extract(new AudioClip(new float[10], 8000))).hasMessageContaining("8000 Hz");
    }

    /**
     * extract() transforms only the frames that read the clip and fills the all-zero rest; the
     * oracle is the same clip zero-padded to the whole window by hand, where every frame is
     * transformed. Lengths: empty, partial hops, a clip whose last frames touch the reflected tail
     * (within half a window of the end, where nothing may be skipped), a full and an over-long one.
     */
    @Test
    void skippingThePaddingFramesChangesNoBit() {
        WhisperFeatureExtractor x = new WhisperFeatureExtractor(WhisperFeatureExtractorConfig.whisper80());
        int n = x.config().nSamples();
        for (int len : new int[] {0, 1, 159, 161, 16000, 116800, n - 201, n - 200, n - 199, n - 1, n, n + 5000}) {
            float[] clip = TestMedia.syntheticAudio(len / 16000.0, 16000, 3);
            clip = java.util.Arrays.copyOf(clip, len);
            float[] padded = java.util.Arrays.copyOf(clip, Math.max(len, n));
            float[] all = x.extract(padded);
            assertThat(x.extract(clip)).as("%d samples", len).isEqualTo(all);
            int keep = x.numValidFrames(len);
            float[] kept = x.extractFrames(clip, keep);
            for (int m = 0; m < x.numMels(); m++) {
                for (int t = 0; t < keep; t++) {
                    assertThat(kept[m * keep + t]).as("%d samples, mel %d frame %d", len, m, t)
                            .isEqualTo(all[m * x.numFrames() + t]);
                }
            }
        }
        assertThatThrownBy(() -> x.extractFrames(new float[10], x.numFrames() + 1)).hasMessageContaining("[0, 3000]");
    }
}
