package io.sparkmm.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.reference.ReferenceBackend;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every broken checkpoint fails with a message naming the file (and tensor) at fault. */
class BadCheckpointTest {

    /** Opens the directory and loads it with its family: where config.json's contents are read. */
    private static void loadWithFamily(Path dir) {
        try (Checkpoint c = Checkpoint.open(dir); Backend b = new ReferenceBackend()) {
            ModelFamilies.load(c, b).close();
        }
    }

    @TempDir
    Path dir;

    private Path weights() {
        return dir.toAbsolutePath().normalize().resolve("model.safetensors");
    }

    private void writeModel(SafetensorsWriter w) {
        Fixtures.configOnly(dir);
        w.write(weights());
    }

    private static SafetensorsWriter twoTensors() {
        return new SafetensorsWriter()
                .add("a.weight", DType.F32, new int[] {4, 4}, new float[16])
                .add("b.weight", DType.F32, new int[] {4, 4}, new float[16]);
    }

    @Test
    void missingDirectory() {
        Path missing = dir.resolve("no-such-model");
        assertThatThrownBy(() -> Checkpoint.open(missing))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("does not exist");
    }

    @Test
    void missingConfigJson() {
        twoTensors().write(weights());
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("config.json").toString());
    }

    @Test
    void missingWeights() {
        Fixtures.configOnly(dir);
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("model.safetensors");
    }

    @Test
    void unknownArchitecture() {
        Fixtures.write(dir.resolve("config.json"), "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\"}");
        twoTensors().write(weights());
        // the directory opens (config.json is valid JSON); choosing a family for it fails
        assertThatThrownBy(() -> loadWithFamily(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("config.json").toString())
                .hasMessageContaining("GPT2LMHeadModel")
                .hasMessageContaining("LlamaForCausalLM").hasMessageContaining("Qwen2ForCausalLM")
                .hasMessageContaining("MistralForCausalLM").hasMessageContaining("LlavaForConditionalGeneration");
    }

    @Test
    void pickleWeightsAreRefused() throws IOException {
        Fixtures.configOnly(dir);
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("pytorch_model.bin")
                .hasMessageContaining("pickle")
                .hasMessageContaining("execute arbitrary code")
                .hasMessageContaining("safetensors");
    }

    @Test
    void truncatedFileNamesFileAndTensor() throws IOException {
        writeModel(twoTensors());
        try (RandomAccessFile f = new RandomAccessFile(weights().toFile(), "rw")) {
            f.setLength(f.length() - 10); // cut into the last tensor, b.weight
        }
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(weights().toString())
                .hasMessageContaining("b.weight")
                .hasMessageContaining("truncated");
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        writeModel(twoTensors());
        try (RandomAccessFile f = new RandomAccessFile(weights().toFile(), "rw")) {
            byte[] len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(f.length() + 1).array();
            f.write(len);
        }
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(weights().toString())
                .hasMessageContaining("header length");
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        Fixtures.configOnly(dir);
        Files.write(weights(), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(weights().toString())
                .hasMessageContaining("too short");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        Fixtures.configOnly(dir);
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8);
        b.put("not json".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Files.write(weights(), b.array());
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(weights().toString())
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void unsupportedDtypeIsRefusedOnAccessNamingTensorAndFile() {
        byte[] ids = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(1).putLong(2).putLong(3).array();
        writeModel(twoTensors().addRaw("position_ids", "I64", 8, new int[] {3}, ids));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            // Other tensors stay usable: real checkpoints carry such integer buffers.
            assertThat(ckpt.tensor("a.weight").dtype()).isEqualTo(DType.F32);
            assertThatThrownBy(() -> ckpt.tensor("position_ids"))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessage("unsupported dtype I64 for tensor position_ids in " + weights()
                            + "; supported: F32, F16, BF16");
        }
    }

    @Test
    void shapeThatDisagreesWithOffsets() {
        writeModel(new SafetensorsWriter().addRaw("w", "F32", 4, new int[] {2, 3}, new byte[20]));
        assertThatThrownBy(() -> Checkpoint.open(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tensor w in " + weights())
                .hasMessageContaining("[2,3]")
                .hasMessageContaining("24 bytes")
                .hasMessageContaining("span 20");
    }

    @Test
    void missingTensorNamesTensorAndFile() {
        writeModel(twoTensors());
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertThatThrownBy(() -> ckpt.tensor("model.norm.weight"))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("model.norm.weight")
                    .hasMessageContaining("model.safetensors")
                    .hasMessageContaining(dir.toAbsolutePath().normalize().toString());
        }
    }

    @Test
    void misShapedTensor() {
        writeModel(twoTensors());
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertThatThrownBy(() -> ckpt.tensor("a.weight").requireShape(4, 8))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessage("tensor a.weight in " + weights() + " has shape [4, 4], expected [4, 8]");
        }
    }

    @Test
    void closedCheckpointRefusesReads() {
        writeModel(twoTensors());
        Checkpoint ckpt = Checkpoint.open(dir);
        ckpt.close();
        ckpt.close(); // idempotent
        assertThatThrownBy(() -> ckpt.tensor("a.weight"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void badConfigValueNamesFileAndKey() {
        Fixtures.write(dir.resolve("config.json"),
                "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": \"big\"}");
        twoTensors().write(weights());
        assertThatThrownBy(() -> loadWithFamily(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("config.json").toString())
                .hasMessageContaining("hidden_size");
    }
}
