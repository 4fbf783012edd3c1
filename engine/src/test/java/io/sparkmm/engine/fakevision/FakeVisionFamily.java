package io.sparkmm.engine.fakevision;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A family that exists only on the test class path, registered by one services line: the proof
 * that a new family costs one package. Its images become a grid of patch embeddings, framed by
 * start/end tokens with a newline token after each row (only the patches take encoder rows), and
 * its positions are sectioned (temporal, height, width) as Qwen2-VL's M-RoPE lays them out.
 */
public final class FakeVisionFamily implements ModelFamily {

    static final String ARCHITECTURE = "FakeVisionForConditionalGeneration";

    @Override
    public String name() {
        return "fake-vision";
    }

    @Override
    public Set<String> architectures() {
        return Set.of(ARCHITECTURE);
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("fake_vision");
    }

    @Override
    public List<String> modalities() {
        return List.of("image");
    }

    @Override
    public FamilyModel load(Checkpoint checkpoint, Backend backend) {
        JsonFields f = checkpoint.configJson();
        ModelConfig text = ModelConfig.parse(f.object("text_config"), "llama");
        FakeVisionConfig config = new FakeVisionConfig(f.requireInt("image_token_id"), f.requireInt("vision_start_token_id"),
                f.requireInt("vision_end_token_id"), f.requireInt("newline_token_id"), f.requireInt("patch_size"),
                f.boolOr("linear_positions", false));
        DecoderModel decoder = new DecoderModel(text, backend,
                DecoderWeights.load(checkpoint, text, backend, "model.", "lm_head.weight"));
        return new FakeVisionModel(this, config, decoder);
    }

    @Override
    public List<String> tinyCheckpointArchitectures() {
        return List.of("fake-vision");
    }

    /** A tiny Llama decoder under this family's config: text_config plus the vision token ids. */
    @Override
    public Path writeTinyCheckpoint(Path dir, String arch, DType dtype, Long seed) {
        TinyCheckpoint.Spec spec = TinyCheckpoint.Spec.llamaGqa().withDtype(dtype);
        TinyCheckpoint.write(dir, seed != null ? spec.withSeed(seed) : spec);
        return rewriteConfig(dir, false);
    }

    static Path rewriteConfig(Path dir, boolean linearPositions) {
        try {
            Path file = dir.resolve(Checkpoint.CONFIG);
            ObjectNode text = (ObjectNode) JsonFields.MAPPER.readTree(file.toFile());
            int vocab = text.get("vocab_size").asInt();
            ObjectNode c = JsonFields.MAPPER.createObjectNode();
            c.putArray("architectures").add(ARCHITECTURE);
            c.put("model_type", "fake_vision");
            c.set("text_config", text);
            c.put("image_token_id", vocab - 4);
            c.put("vision_start_token_id", vocab - 3);
            c.put("vision_end_token_id", vocab - 2);
            c.put("newline_token_id", vocab - 5);
            c.put("patch_size", 8);
            c.put("linear_positions", linearPositions);
            Files.writeString(file, JsonFields.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(c));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @param linearPositions a switch for the test that shows the sectioned positions are in effect */
    record FakeVisionConfig(int imageToken, int startToken, int endToken, int newlineToken, int patchSize,
                            boolean linearPositions) {
    }
}
