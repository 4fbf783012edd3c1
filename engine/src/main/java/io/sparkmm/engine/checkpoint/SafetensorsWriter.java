package io.sparkmm.engine.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a safetensors file, for tests, tiny demo checkpoints and fixtures.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *     .add("model.norm.weight", DType.BF16, new int[] {64}, values)
 *     .write(dir.resolve("model.safetensors"));
 * }</pre>
 *
 * Layout choices follow the reference implementation so our files look like Hugging Face's:
 * {@code __metadata__} {"format": "pt"}; data ordered by element size (largest first) then name, so
 * every tensor starts at a multiple of its element size; the header padded with spaces to a
 * multiple of 8 bytes, so the data section is 8-byte aligned in the file. Header keys are written
 * sorted by name, which makes output byte-identical for the same inputs.
 *
 * <p>F16/BF16 values are rounded to nearest even by {@link Half}.
 */
public final class SafetensorsWriter {

    private record Pending(String name, String dtype, int elementBytes, int[] shape, byte[] bytes) {
    }

    private final Map<String, Pending> tensors = new TreeMap<>();
    private final Map<String, String> metadata = new TreeMap<>(Map.of("format", "pt"));

    /** Adds {@code values} (row-major, length = product of {@code shape}) stored as {@code dtype}. */
    public SafetensorsWriter add(String name, DType dtype, int[] shape, float[] values) {
        long size = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
            }
            size *= d;
        }
        if (size != values.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + size
                    + " values, got " + values.length);
        }
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, dtype.bytes()))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case F16 -> b.putShort(Half.fromFloat(v));
                case BF16 -> b.putShort(Half.bf16FromFloat(v));
                default -> throw new IllegalArgumentException("unsupported dtype " + dtype);
            }
        }
        return put(new Pending(name, dtype.name(), dtype.bytes(), shape.clone(), b.array()));
    }

    /**
     * Adds raw little-endian bytes under any safetensors dtype string (e.g. "I64"), so tests can
     * write tensors the reader must refuse. The byte count is not checked against the shape.
     */
    public SafetensorsWriter addRaw(String name, String dtype, int elementBytes, int[] shape, byte[] bytes) {
        return put(new Pending(name, dtype, elementBytes, shape.clone(), bytes.clone()));
    }

    /** A {@code __metadata__} entry (string to string, as the format requires). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    private SafetensorsWriter put(Pending p) {
        if (p.name().equals("__metadata__")) {
            throw new IllegalArgumentException("__metadata__ is reserved");
        }
        if (tensors.putIfAbsent(p.name(), p) != null) {
            throw new IllegalArgumentException("duplicate tensor " + p.name());
        }
        return this;
    }

    /** Writes the file (via a temporary file and a rename, so a crash never leaves half a file). */
    public void write(Path file) {
        List<Pending> dataOrder = new ArrayList<>(tensors.values());
        dataOrder.sort(Comparator.comparingInt(Pending::elementBytes).reversed().thenComparing(Pending::name));
        Map<String, long[]> offsets = new TreeMap<>();
        long pos = 0;
        for (Pending p : dataOrder) {
            offsets.put(p.name(), new long[] {pos, pos + p.bytes().length});
            pos += p.bytes().length;
        }

        ObjectNode header = JsonFields.MAPPER.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        for (Pending p : tensors.values()) { // TreeMap: sorted by name
            ObjectNode t = header.putObject(p.name());
            t.put("dtype", p.dtype());
            ArrayNode shape = t.putArray("shape");
            for (int d : p.shape()) {
                shape.add(d);
            }
            long[] o = offsets.get(p.name());
            t.putArray("data_offsets").add(o[0]).add(o[1]);
        }
        byte[] json;
        try {
            json = JsonFields.MAPPER.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();

        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, head);
                for (Pending p : dataOrder) {
                    writeFully(ch, ByteBuffer.wrap(p.bytes()));
                }
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
