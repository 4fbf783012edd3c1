package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.media.MediaSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pricing a Qwen2-Audio prompt from its clips' lengths alone (what balance=tokens does before any
 * audio is read), against transformers' Qwen2AudioProcessor: for every clip of
 * qwen2audio_fixtures.py (1 sample to 35 s, past the 30 s truncation) the priced prompt length is
 * the length of HF's input_ids, whether the length is given at 16 kHz, at 48 kHz or at 8 kHz.
 */
class Qwen2AudioPricingTest {

    private static final Path RES = Path.of("src/test/resources/qwen2audio");
    private static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny");

    @Test
    void promptLengthFromClipLengthsEqualsTheProcessorsInputIds() throws Exception {
        JsonNode fx = new ObjectMapper().readTree(RES.resolve("qwen2audio_fixtures.json").toFile());
        String prompt = fx.get("prompt").asText();
        assertThat(fx.get("processor")).hasSizeGreaterThan(10);
        try (EngineSession session = open()) {
            MultimodalProcessor p = session.requests();
            PromptInput text = new PromptInput(prompt, null, false, null, List.of(), List.of(), List.of());
            int checked = 0;
            for (JsonNode c : fx.get("processor")) {
                long n = c.get("samples").asLong();
                int expected = c.get("input_ids").size();
                assertThat(p.promptTokens(text, List.of(), List.<long[]>of(new long[] {n, 16000})))
                        .as("%d samples at 16 kHz", n).isEqualTo(expected);
                assertThat(p.promptTokens(text, List.of(), List.<long[]>of(new long[] {3 * n, 48000})))
                        .as("%d samples at 48 kHz", 3 * n).isEqualTo(expected);
                if (n % 2 == 0) {
                    assertThat(p.promptTokens(text, List.of(), List.<long[]>of(new long[] {n / 2, 8000})))
                            .as("%d samples at 8 kHz", n / 2).isEqualTo(expected);
                }
                checked++;
            }
            assertThat(checked).isEqualTo(fx.get("processor").size());
        }
    }

    /**
     * Two clips in chat mode: the priced length equals the length of the request the engine builds
     * from the decoded clips (itself checked against HF's chat fixtures in Qwen2AudioChatTest), and a
     * clip of unknown length counts as one token, a lower bound.
     */
    @Test
    void chatPromptWithTwoClipsPricesAsTheBuiltRequest() throws Exception {
        int[] lengths = {16160, 116800};
        try (EngineSession session = open()) {
            MultimodalProcessor p = session.requests();
            List<MediaSource> clips = new ArrayList<>();
            List<long[]> priced = new ArrayList<>();
            for (int n : lengths) {
                clips.add(MediaSource.ofBytes("clip" + n, Qwen2AudioTestClips.floatWav(Qwen2AudioTestClips.clip(n, n), 16000)));
                priced.add(new long[] {n, 16000});
            }
            PromptInput chat = new PromptInput("what are these sounds ?", null, true, null, List.of(), clips, List.of());
            int built = p.build("r", chat, SamplingParams.greedy(1)).promptTokenIds().length;
            PromptInput noMedia = new PromptInput("what are these sounds ?", null, true, null, List.of(), List.of(), List.of());
            assertThat(p.promptTokens(noMedia, List.of(), priced)).isEqualTo(built);
            List<long[]> oneUnknown = new ArrayList<>(priced);
            oneUnknown.set(1, null);
            assertThat(p.promptTokens(noMedia, List.of(), oneUnknown)).isLessThan(built)
                    .isEqualTo(built - (Qwen2AudioLengths.audioTokens((116800 + 159) / 160) - 1));
        }
    }

    private static EngineSession open() {
        return EngineSession.open(CKPT.toString(), EngineOptions.defaults().withDevice("cpu")
                .withEngine(EngineConfig.defaults()).withProcessorCacheBytes(16L << 20));
    }
}
