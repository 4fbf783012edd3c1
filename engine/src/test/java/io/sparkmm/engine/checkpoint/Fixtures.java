package io.sparkmm.engine.checkpoint;

import io.sparkmm.kernels.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small helpers shared by the checkpoint tests. */
final class Fixtures {

    private Fixtures() {
    }

    /** A minimal, valid Llama config.json (values irrelevant to the test at hand). */
    static final String LLAMA_CONFIG = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8,
             "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
             "num_key_value_heads": 1, "vocab_size": 10, "rms_norm_eps": 1e-6}
            """;

    static Path write(Path file, String text) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            return Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A directory with config.json and nothing else. */
    static Path configOnly(Path dir) {
        write(dir.resolve("config.json"), LLAMA_CONFIG);
        return dir;
    }

    /** Decodes a tensor's bytes to F32 with formulas written independently of kernels' Half. */
    static float[] decode(SafeTensor t) {
        ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) t.size();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (t.dtype()) {
                case F32 -> b.getFloat(4 * i);
                case BF16 -> Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
                case F16 -> halfToFloat(b.getShort(2 * i) & 0xffff);
            };
        }
        return out;
    }

    /** IEEE binary16 by its definition: (-1)^s * 2^(e-15) * 1.m, or 2^-14 * 0.m when e == 0. */
    static float halfToFloat(int h) {
        int s = h >>> 15;
        int e = (h >>> 10) & 0x1f;
        int m = h & 0x3ff;
        double v;
        if (e == 0x1f) {
            v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            v = Math.scalb((double) m / 1024.0, -14);
        } else {
            v = Math.scalb(1.0 + m / 1024.0, e - 15);
        }
        return (float) (s == 1 ? -v : v);
    }

    static int elementBytes(DType d) {
        return d.bytes();
    }
}
