package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkmm.engine.models.EngineVsNaive;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Qwen2-Audio through the paged engine against the naive generator (full recompute, no cache, no
 * chunks), on our Hub-layout checkpoint: one or two clips of different lengths per request, chunked
 * prefill whose boundaries fall inside every audio run, prefix hits that end inside and right after
 * a clip's tokens (requests sharing a clip and their opening words), and preemption under a tight KV
 * pool. A wrong row offset in a chunk or a hit that skips a clip's encoding changes the tokens.
 */
class Qwen2AudioEngineTest {

    private static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_ours_hub_bf16");
    private static final String CLIP = "<|audio_bos|><|AUDIO|><|audio_eos|>";
    /** 0.5 s to 4 s: 12 to 100 audio tokens. */
    private static final int[] LENGTHS = {8000, 16160, 40000, 64000};

    static Backend backend;
    static LoadedModel model;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", 2);
        model = LoadedModel.open(CKPT, backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static MediaSource clip(int i) {
        int n = LENGTHS[i % LENGTHS.length];
        return MediaSource.ofBytes("clip" + i + ".wav", Qwen2AudioTestClips.floatWav(Qwen2AudioTestClips.clip(n, 100 + i), 16000));
    }

    private static List<EngineRequest> requests(SamplingParams sampling) {
        MultimodalProcessor p = new MultimodalProcessor(model, new ProcessorCache(64L << 20), MediaLimits.defaults());
        String[] asks = {"what is the sound", "describe the sound in this audio clip", "is there music"};
        List<EngineRequest> out = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            List<MediaSource> clips = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            // requests 0-3 share clip 0 and their first words: prefix hits end inside and after its run
            clips.add(clip(i < 4 ? 0 : i));
            text.append(i < 4 ? "listen " : "hear ").append(CLIP).append(' ').append(asks[i % asks.length]);
            if (i % 3 == 2) {
                clips.add(clip(i + 1));
                text.append(" and ").append(CLIP).append(" then");
            }
            out.add(p.build(null, new PromptInput(text.toString(), null, false, null, List.of(), clips, List.of()),
                    sampling));
        }
        return out;
    }

    @Test
    void greedyTokensEqualTheNaivePathChunkedCachedAndPreempted() throws Exception {
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(5).ignoreEos(true).build();
        List<EngineRequest> reqs = requests(greedy);
        List<int[]> expected = EngineVsNaive.expected(model, reqs, greedy);
        int largest = reqs.stream().mapToInt(r -> r.promptTokenIds().length).max().orElseThrow();
        List<EngineConfig> configs = List.of(
                EngineConfig.defaults(),
                // chunks of 13 tokens: boundaries fall inside every audio run
                EngineConfig.defaults().withMaxNumBatchedTokens(13).withBlockSize(4).withNumKvBlocks(600),
                // room for about two requests at a time: the others wait or are preempted and recomputed
                EngineConfig.defaults().withMaxNumBatchedTokens(64).withBlockSize(4)
                        .withNumKvBlocks(2 * (largest + 8) / 4 + 2));
        for (EngineConfig config : configs) {
            EngineVsNaive.Run run = EngineVsNaive.check(model, config, reqs, expected, "qwen2-audio");
            EngineMetrics metrics = run.metrics();
            if (config == configs.get(0)) {
                assertThat(metrics.prefixHitTokens()).as("requests 1-3 reuse request 0's blocks").isPositive();
            }
            if (config == configs.get(2)) {
                assertThat(metrics.preemptions()).as("preemptions with a tight KV pool").isPositive();
            }
        }
    }
}
