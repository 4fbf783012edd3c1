package io.sparkmm.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkmm.kernels.DType;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedCheckpointTest {

    static final String SHARD1 = "model-00001-of-00002.safetensors";
    static final String SHARD2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;

    @BeforeEach
    void writeShards() {
        Fixtures.configOnly(dir);
        new SafetensorsWriter()
                .add("model.embed_tokens.weight", DType.BF16, new int[] {2, 2}, new float[] {1, 2, 3, 4})
                .add("model.layers.0.input_layernorm.weight", DType.BF16, new int[] {2}, new float[] {5, 6})
                .write(dir.resolve(SHARD1));
        new SafetensorsWriter()
                .add("model.norm.weight", DType.F32, new int[] {2}, new float[] {7, 8})
                .add("lm_head.weight", DType.F32, new int[] {2, 2}, new float[] {9, 10, 11, 12})
                .write(dir.resolve(SHARD2));
    }

    private void writeIndex(String extraEntry) {
        Fixtures.write(dir.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 36},
                 "weight_map": {
                   "lm_head.weight": "%2$s",
                   "model.embed_tokens.weight": "%1$s",
                   "model.layers.0.input_layernorm.weight": "%1$s",
                   "model.norm.weight": "%2$s"%3$s}}
                """.formatted(SHARD1, SHARD2, extraEntry));
    }

    @Test
    void resolvesTensorsFromBothShards() {
        writeIndex("");
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertThat(ckpt.tensorNames()).containsExactly("lm_head.weight", "model.embed_tokens.weight",
                    "model.layers.0.input_layernorm.weight", "model.norm.weight");
            SafeTensor emb = ckpt.tensor("model.embed_tokens.weight").requireShape(2, 2);
            assertThat(emb.file().getFileName().toString()).isEqualTo(SHARD1);
            assertThat(emb.dtype()).isEqualTo(DType.BF16);
            assertThat(Fixtures.decode(emb)).containsExactly(1, 2, 3, 4);
            SafeTensor head = ckpt.tensor("lm_head.weight").requireShape(2, 2);
            assertThat(head.file().getFileName().toString()).isEqualTo(SHARD2);
            assertThat(Fixtures.decode(head)).containsExactly(9, 10, 11, 12);
            assertThat(ckpt.has("model.norm.weight")).isTrue();
            assertThat(ckpt.has("model.layers.1.input_layernorm.weight")).isFalse();
            assertThatThrownBy(() -> ckpt.tensor("model.layers.1.input_layernorm.weight"))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("model.layers.1.input_layernorm.weight")
                    .hasMessageContaining(SHARD1).hasMessageContaining(SHARD2)
                    .hasMessageContaining("model.safetensors.index.json");
        }
    }

    @Test
    void indexPointingAtTheWrongShardIsAnError() {
        writeIndex(", \"model.layers.1.mlp.up_proj.weight\": \"" + SHARD2 + "\"");
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.layers.1.mlp.up_proj.weight")
                .hasMessageContaining(SHARD2)
                .hasMessageContaining("model.safetensors.index.json");
    }

    @Test
    void indexNamingAMissingShardIsAnError() {
        writeIndex(", \"x\": \"model-00003-of-00002.safetensors\"");
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model-00003-of-00002.safetensors")
                .hasMessageContaining("does not exist")
                .hasMessageContaining("for tensor x");
    }

    @Test
    void indexCannotPointOutsideTheDirectory() {
        writeIndex(", \"x\": \"../elsewhere.safetensors\"");
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("../elsewhere.safetensors")
                .hasMessageContaining("outside");
    }

    @Test
    void unindexedShardsAreFoundByExtension() {
        // No index and no model.safetensors: every *.safetensors is loaded.
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertThat(ckpt.tensorNames()).hasSize(4);
            assertThat(Fixtures.decode(ckpt.tensor("model.norm.weight"))).containsExactly(7, 8);
        }
    }
}
