package io.sparkmm.engine.models.qwen25omni;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.qwen2audio.Qwen2AudioTestClips;
import io.sparkmm.processors.audio.WhisperFeatureExtractor;
import io.sparkmm.processors.audio.WhisperFeatureExtractorConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The short feature window the processor uses for a clip gives, on the clip's valid frames, exactly
 * the values of the checkpoint's full 300 s window (the extractor run as transformers runs it).
 */
class Qwen25OmniFeatureWindowTest {

    @ParameterizedTest(name = "{0} samples")
    @ValueSource(ints = {1, 161, 5000, 16001, 52800, 88000, -32000})
    void theShortWindowGivesTheFullWindowsFeatures(int n) {
        // negative: that many samples of silence, where every frame, real or padding, is the maximum
        float[] samples = n > 0 ? Qwen2AudioTestClips.clip(n, 7) : new float[-n];
        Qwen25OmniConfig config;
        try (Checkpoint ckpt = Checkpoint.open(OmniTesting.CKPT)) {
            config = Qwen25OmniConfig.parse(ckpt.configJson());
        }
        Qwen25OmniProcessor p = Qwen25OmniProcessor.load(OmniTesting.CKPT, config);
        WhisperFeatureExtractor full = new WhisperFeatureExtractor(
                new WhisperFeatureExtractorConfig(128, 16000, 160, 400, 300, 4_800_000, 0.0));
        WhisperFeatureExtractor shortWindow = p.windowFor(samples.length);
        assertThat(shortWindow.numFrames()).isLessThan(full.numFrames() / 10);
        int valid = full.numValidFrames(samples.length);
        float[] a = full.extract(samples);
        float[] b = shortWindow.extract(samples);
        for (int m = 0; m < 128; m++) {
            for (int f = 0; f < valid; f++) {
                assertThat(b[m * shortWindow.numFrames() + f]).as("mel %d frame %d", m, f)
                        .isEqualTo(a[m * full.numFrames() + f]);
            }
        }
    }
}
