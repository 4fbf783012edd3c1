package io.sparkmm.engine.models.qwen25omni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.SafeTensor;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The thinker inside a whole Qwen2.5-Omni checkpoint (the Hub's layout: config.json with
 * {@code thinker_config}, architecture Qwen2_5OmniModel, tensors under {@code thinker.} next to the
 * talker's and the vocoder's, which are not loaded), made from transformers' thinker by renaming,
 * gives the same greedy tokens as transformers' thinker; a checkpoint with neither layout is refused
 * by name.
 */
class Qwen25OmniLayoutTest {

    @TempDir
    Path dir;

    @Test
    void aWholeOmniCheckpointLoadsItsThinker() throws Exception {
        Path whole = dir.resolve("omni");
        Files.createDirectories(whole);
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "processor_config.json",
            "generation_config.json"}) {
            Files.copy(OmniTesting.CKPT.resolve(f), whole.resolve(f));
        }
        SafetensorsWriter w = new SafetensorsWriter();
        try (Checkpoint thinker = Checkpoint.open(OmniTesting.CKPT)) {
            for (String name : thinker.tensorNames()) {
                SafeTensor t = thinker.tensor(name);
                FloatBuffer fb = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                float[] v = new float[fb.remaining()];
                fb.get(v);
                w.add("thinker." + name, DType.F32, t.shape(), v);
            }
            w.add("talker.model.embed_tokens.weight", DType.F32, new int[] {2, 2}, new float[4]);
            w.add("token2wav.code_embed.weight", DType.F32, new int[] {2, 2}, new float[4]);
            ObjectNode config = JsonFields.MAPPER.createObjectNode();
            config.putArray("architectures").add("Qwen2_5OmniModel");
            config.put("model_type", "qwen2_5_omni");
            config.put("enable_audio_output", true);
            config.set("thinker_config", thinker.configJson().node());
            config.putObject("talker_config").put("model_type", "qwen2_5_omni_talker");
            Files.writeString(whole.resolve("config.json"), config.toPrettyString());
        }
        w.write(whole.resolve("model.safetensors"));

        JsonNode c = OmniTesting.fixtureCase("audio");
        try (Backend backend = Backends.open("cpu", 2); LoadedModel model = LoadedModel.open(whole, backend)) {
            assertThat(model.model()).isInstanceOf(Qwen25OmniModel.class);
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(5).ignoreEos(true).build();
            var processor = new io.sparkmm.engine.multimodal.MultimodalProcessor(model,
                    new io.sparkmm.processors.cache.ProcessorCache(1L << 20), io.sparkmm.processors.media.MediaLimits.defaults());
            EngineRequest r = OmniTesting.request(processor, c.get("prompt").asText(), List.of(),
                    List.of(OmniTesting.file(OmniTesting.wav(dir, 52800, 3))), List.of(), false, greedy);
            assertThat(r.promptTokenIds()).containsExactly(OmniTesting.ints(c.get("input_ids")));
            NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
            assertThat(naive.generate(r.promptTokenIds(), r.media(), greedy).tokenIds())
                    .containsExactly(OmniTesting.ints(c.get("greedy_tokens")));
        }
    }

    @Test
    void aCheckpointWithoutTheThinkersTensorsIsRefusedByName() throws Exception {
        Path bad = dir.resolve("bad");
        Files.createDirectories(bad);
        Files.copy(OmniTesting.CKPT.resolve("config.json"), bad.resolve("config.json"));
        new SafetensorsWriter().add("talker.x", DType.F32, new int[] {1}, new float[1]).write(bad.resolve("model.safetensors"));
        try (Backend backend = Backends.open("cpu", 1)) {
            assertThatThrownBy(() -> LoadedModel.open(bad, backend)).hasMessageContaining("thinker.model.embed_tokens.weight");
        }
    }
}
