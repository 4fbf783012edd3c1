package io.sparkmm.engine.models.qwen2audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.MediaRows;
import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PlaceholderRange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Qwen2-Audio family as the engine sees it (ServiceLoader registration, FamilyModel,
 * FamilyProcessor) on transformers' tiny checkpoint plus Qwen2-Audio's preprocessor_config.json:
 * the placeholder expansion, the encoder rows and, merged by {@link MediaRows} like the engine
 * does, the last-position logits, all against qwen2audio_fixtures.py. Tolerances as in
 * Qwen2AudioHfConformanceTest (2e-5) and Qwen2AudioLogitsTest (1e-5).
 */
class Qwen2AudioFamilyTest {

    private static final Path RES = Path.of("src/test/resources/qwen2audio");
    private static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny");

    @TempDir
    Path tmp;

    private Path checkpointWithProcessor() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("qwen2_audio_tiny"));
        try (var files = Files.list(CKPT)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.copy(RES.resolve("preprocessor_config.json"), dir.resolve("preprocessor_config.json"));
        return dir;
    }

    @Test
    void encodesAndMergesLikeTransformers() throws Exception {
        JsonNode fx = new ObjectMapper().readTree(RES.resolve("qwen2audio_fixtures.json").toFile());
        int audioId = fx.get("vocab").get("<|AUDIO|>").asInt();
        double worst = 0;
        try (Backend backend = Backends.open("cpu", 2);
             Checkpoint ckpt = Checkpoint.open(checkpointWithProcessor())) {
            assertThat(ModelFamilies.forCheckpoint(ckpt).name()).isEqualTo("qwen2-audio");
            try (FamilyModel model = ModelFamilies.load(ckpt, backend)) {
                Qwen2AudioProcessor processor = (Qwen2AudioProcessor) model.processor();
                assertThat(processor.placeholder("audio").featureTokenId()).isEqualTo(audioId);
                assertThat(model.maxEmbeddingsPerItem()).isEqualTo(750);
                DecoderModel text = model.languageModel();
                for (JsonNode c : fx.get("encoder_cases")) {
                    int n = c.get("samples").asInt();
                    ProcessedItem item = processor.processed("clip" + n, Qwen2AudioTestClips.clip(n, c.get("seed").asLong()));
                    ItemReplacement rep = processor.replacement(item);
                    int[] ids = new int[c.get("input_ids").size()];
                    Arrays.setAll(ids, i -> c.get("input_ids").get(i).asInt());
                    // HF's expanded prompt: <|audio_bos|> at 0, then the audio run from 1.
                    assertThat(rep.tokens()).isEqualTo(Arrays.copyOfRange(ids, 1, 1 + rep.length()));
                    assertThat(ids[1 + rep.length()]).isNotEqualTo(audioId);
                    PlaceholderRange range = new PlaceholderRange(1, rep.length(), rep.isEmbed());
                    int[] positions = new int[ids.length];
                    Arrays.setAll(positions, i -> i);
                    try (Tensor rows = model.encode(new MediaInput(item, range));
                         Tensor hidden = text.embed(ids)) {
                        assertThat(rows.shape()).containsExactly(rep.length(), text.config().hiddenSize());
                        JsonNode row0 = c.get("projected").get("rows").get("0");
                        float[] got = backend.download(rows);
                        for (int j = 0; j < row0.size(); j++) {
                            worst = Math.max(worst, check(got[j], row0.get(j).asDouble(), 2e-5, "projected " + n));
                        }
                        MediaRows.merge(backend, rows, range, range.offset(), range.end(), hidden, range.offset());
                        text.forwardLayers(hidden, positions);
                        float[] logits = text.logitsOfRow(hidden, ids.length - 1);
                        JsonNode want = c.get("last_logits");
                        assertThat(logits).hasSize(want.size());
                        for (int i = 0; i < logits.length; i++) {
                            worst = Math.max(worst, check(logits[i], want.get(i).asDouble(), 1e-5, "logits " + n));
                        }
                    }
                }
                ProcessedItem item = processor.processed("a", Qwen2AudioTestClips.clip(16000, 16000));
                assertThatThrownBy(() -> model.encode(new MediaInput(item, new PlaceholderRange(0, 24, null))))
                        .hasMessageContaining("25 tokens but has 24");
            }
        }
        System.out.printf(Locale.ROOT, "Qwen2-Audio family vs transformers: worst |diff| %.3g%n", worst);
    }

    /** The decoding path: a 16-bit WAV of the 16160-sample clip makes HF's 101 frames and 25 tokens. */
    @Test
    void decodesClipsAndRejectsWhatTransformersCannotUse() throws Exception {
        try (Backend backend = Backends.open("cpu", 1);
             Checkpoint ckpt = Checkpoint.open(checkpointWithProcessor());
             FamilyModel model = ModelFamilies.load(ckpt, backend)) {
            var processor = model.processor();
            assertThat(processor.modalities()).containsExactly("audio");
            ProcessedItem item = processor.process("w", "audio",
                    MediaSource.ofBytes("clip.wav", wav(Qwen2AudioTestClips.clip(16160, 16160), 16000)),
                    MediaLimits.defaults());
            assertThat(item.tensor(Qwen2AudioProcessor.INPUT_FEATURES).shape()).containsExactly(128, 3000);
            assertThat(item.tensor(Qwen2AudioProcessor.VALID_FRAMES).ints()).containsExactly(101);
            assertThat(processor.replacement(item).length()).isEqualTo(25);
            assertThatThrownBy(() -> ((Qwen2AudioProcessor) processor).processed("s", new float[320]))
                    .hasMessageContaining("too short");
            assertThatThrownBy(() -> processor.placeholder("image")).hasMessageContaining("not image");
        }
    }

    private static byte[] wav(float[] samples, int rate) {
        ByteBuffer b = ByteBuffer.allocate(44 + 2 * samples.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(36 + 2 * samples.length).put("WAVE".getBytes());
        b.put("fmt ".getBytes()).putInt(16).putShort((short) 1).putShort((short) 1).putInt(rate).putInt(2 * rate)
                .putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes()).putInt(2 * samples.length);
        for (float s : samples) {
            b.putShort((short) Math.round(Math.max(-1f, Math.min(1f, s)) * 32767));
        }
        return b.array();
    }

    private static double check(double got, double want, double tolerance, String what) {
        double diff = Math.abs(got - want);
        assertThat(diff).as("%s: got %s, transformers %s", what, got, want).isLessThanOrEqualTo(tolerance);
        return diff;
    }
}
