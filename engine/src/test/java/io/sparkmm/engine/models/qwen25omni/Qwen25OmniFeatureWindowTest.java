package io.sparkmm.engine.models.qwen25omni;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.qwen2audio.Qwen2AudioTestClips;
import io.sparkmm.processors.audio.WhisperFeatureExtractor;
import io.sparkmm.processors.audio.WhisperFeatureExtractorConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The valid frames the processor keeps of a clip (the extractor's {@code extractFrames}, which
 * transforms only the frames that read the clip) are exactly the values of the checkpoint's full
 * 300 s window, every frame transformed as transformers does: the clip zero-padded to the whole
 * window by hand, so no frame can be skipped.
 */
class Qwen25OmniFeatureWindowTest {

    @ParameterizedTest(name = "{0} samples")
    @ValueSource(ints = {1, 161, 5000, 16001, 52800, 88000, -32000})
    void theKeptFramesAreTheFullWindowsFeatures(int n) {
        // negative: that many samples of silence, where every frame, real or padding, is the maximum
        float[] samples = n > 0 ? Qwen2AudioTestClips.clip(n, 7) : new float[-n];
        Qwen25OmniConfig config;
        try (Checkpoint ckpt = Checkpoint.open(OmniTesting.CKPT)) {
            config = Qwen25OmniConfig.parse(ckpt.configJson());
        }
        WhisperFeatureExtractor extractor = Qwen25OmniProcessor.load(OmniTesting.CKPT, config).extractor();
        WhisperFeatureExtractor full = new WhisperFeatureExtractor(
                new WhisperFeatureExtractorConfig(128, 16000, 160, 400, 300, 4_800_000, 0.0));
        assertThat(extractor.config()).isEqualTo(full.config());
        int valid = full.numValidFrames(samples.length);
        float[] a = full.extract(java.util.Arrays.copyOf(samples, full.config().nSamples()));
        float[] b = extractor.extractFrames(samples, valid);
        for (int m = 0; m < 128; m++) {
            for (int f = 0; f < valid; f++) {
                assertThat(b[m * valid + f]).as("mel %d frame %d", m, f)
                        .isEqualTo(a[m * full.numFrames() + f]);
            }
        }
    }
}
