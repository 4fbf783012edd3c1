package io.sparkmm.engine.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.JsonFields;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cpu.Half;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A real-size decoder checkpoint with random BF16 weights in the Hugging Face layout
 * (config.json, generation_config.json, model.safetensors with HF names), for speed measurements
 * only: no tokenizer (requests are token ids) and values drawn uniformly with each layer's
 * 1/sqrt(fan_in) scale. The safetensors data is generated and written tensor by tensor, so a
 * 1 GB checkpoint needs no 1 GB of heap; {@link io.sparkmm.engine.checkpoint.SafetensorsWriter}
 * holds every tensor in memory, which suits the tiny test checkpoints it is for.
 */
final class RandomCheckpoint {

    /** Qwen2-0.5B's config.json values (the model itself cannot be downloaded here). */
    static final TinyCheckpoint.Spec QWEN2_0_5B = new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.QWEN2,
            896, 4864, 24, 14, 2, true, DType.BF16, 18, 32768, 1000000.0, null);
    static final int QWEN2_VOCAB = 151936;

    private record Entry(String name, int[] shape, double scale, boolean norm) {
        long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private RandomCheckpoint() {
    }

    /** Writes the checkpoint into dir unless a complete one of this spec is already there. */
    static Path ensure(Path dir, TinyCheckpoint.Spec spec, int vocab) {
        ObjectNode config = TinyCheckpoint.configJson(spec);
        config.put("vocab_size", vocab);
        String configText = config.toPrettyString() + "\n";
        try {
            Path configFile = dir.resolve(Checkpoint.CONFIG);
            if (Files.exists(configFile) && Files.readString(configFile).equals(configText)
                    && Files.exists(dir.resolve(Checkpoint.SINGLE_FILE))) {
                return dir;
            }
            Files.createDirectories(dir);
            Files.deleteIfExists(configFile);
            writeWeights(dir.resolve(Checkpoint.SINGLE_FILE), entries(spec, vocab), spec.seed());
            TinyCheckpoint.writeJson(dir.resolve(GenerationConfig.FILE_NAME), TinyCheckpoint.generationConfigJson());
            // config.json last: its presence marks a complete checkpoint
            Files.writeString(configFile, configText);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark checkpoint to " + dir, e);
        }
    }

    private static List<Entry> entries(TinyCheckpoint.Spec s, int vocab) {
        int d = s.hiddenSize();
        int q = s.numHeads() * s.headDim();
        int kv = s.numKvHeads() * s.headDim();
        int ff = s.intermediateSize();
        List<Entry> e = new ArrayList<>();
        e.add(new Entry("model.embed_tokens.weight", new int[] {vocab, d}, 3.0 / Math.sqrt(d), false));
        for (int i = 0; i < s.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            e.add(new Entry(p + "input_layernorm.weight", new int[] {d}, 0.1, true));
            e.add(new Entry(p + "self_attn.q_proj.weight", new int[] {q, d}, 1 / Math.sqrt(d), false));
            e.add(new Entry(p + "self_attn.k_proj.weight", new int[] {kv, d}, 1 / Math.sqrt(d), false));
            e.add(new Entry(p + "self_attn.v_proj.weight", new int[] {kv, d}, 1 / Math.sqrt(d), false));
            e.add(new Entry(p + "self_attn.o_proj.weight", new int[] {d, q}, 1 / Math.sqrt(q), false));
            if (s.architecture() == TinyCheckpoint.Architecture.QWEN2) {
                e.add(new Entry(p + "self_attn.q_proj.bias", new int[] {q}, 0.2, false));
                e.add(new Entry(p + "self_attn.k_proj.bias", new int[] {kv}, 0.2, false));
                e.add(new Entry(p + "self_attn.v_proj.bias", new int[] {kv}, 0.2, false));
            }
            e.add(new Entry(p + "post_attention_layernorm.weight", new int[] {d}, 0.1, true));
            e.add(new Entry(p + "mlp.gate_proj.weight", new int[] {ff, d}, 1 / Math.sqrt(d), false));
            e.add(new Entry(p + "mlp.up_proj.weight", new int[] {ff, d}, 1 / Math.sqrt(d), false));
            e.add(new Entry(p + "mlp.down_proj.weight", new int[] {d, ff}, 1 / Math.sqrt(ff), false));
        }
        e.add(new Entry("model.norm.weight", new int[] {d}, 0.1, true));
        if (!s.tieWordEmbeddings()) {
            e.add(new Entry("lm_head.weight", new int[] {vocab, d}, 3.0 / Math.sqrt(d), false));
        }
        return e;
    }

    private static void writeWeights(Path file, List<Entry> entries, long seed) throws IOException {
        ObjectNode header = JsonFields.MAPPER.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", "BF16");
            ArrayNode shape = t.putArray("shape");
            for (int dim : e.shape()) {
                shape.add(dim);
            }
            long end = offset + e.elements() * 2;
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JsonFields.MAPPER.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "model", ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            write(ch, head);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + e.name().hashCode());
                // uniform on [-a, a] with a = sqrt(3) * scale has standard deviation scale
                double a = Math.sqrt(3) * e.scale();
                for (long i = 0; i < e.elements(); i++) {
                    float v = (float) ((e.norm() ? 1 : 0) + a * (2 * rnd.nextDouble() - 1));
                    chunk.putShort(Half.bf16FromFloat(v));
                    if (!chunk.hasRemaining()) {
                        chunk.flip();
                        write(ch, chunk);
                        chunk.clear();
                    }
                }
            }
            chunk.flip();
            write(ch, chunk);
        } catch (IOException | RuntimeException ex) {
            Files.deleteIfExists(tmp);
            throw ex;
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void write(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
