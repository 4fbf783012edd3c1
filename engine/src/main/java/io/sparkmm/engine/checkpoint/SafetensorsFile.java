package io.sparkmm.engine.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.kernels.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length N, N bytes of JSON header
 * ({@code {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ...}} plus an
 * optional {@code "__metadata__"} string map), then the data section; offsets are relative to the
 * start of the data section.
 *
 * <p>The whole header is validated at {@link #open}, so a truncated or inconsistent file fails
 * before any model code runs. Tensor bytes are memory-mapped lazily, one mapping per tensor: a
 * single {@link MappedByteBuffer} cannot exceed 2 GiB, but a tensor-sized one fits every tensor a
 * {@link ByteBuffer}-based backend can take anyway, whatever the file size.
 *
 * <p>Tensors in dtypes we do not compute with (I64, U8, ...) are allowed in the file, since real
 * checkpoints sometimes carry such buffers; asking for one with {@link #tensor} is the error.
 *
 * <p>Thread-safe.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** The reference implementation's limit; a larger "header" means a corrupt or hostile file. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Element sizes of every safetensors dtype with whole-byte elements, to validate offsets. */
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E5M2", 1),
            Map.entry("F8_E4M3", 1), Map.entry("F8_E8M0", 1), Map.entry("I16", 2), Map.entry("U16", 2),
            Map.entry("F16", 2), Map.entry("BF16", 2), Map.entry("I32", 4), Map.entry("U32", 4),
            Map.entry("F32", 4), Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));

    private record Entry(String name, String dtype, int[] shape, long begin, long end) {
    }

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final Map<String, MappedByteBuffer> mapped = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private SafetensorsFile(Path file, FileChannel channel, long dataStart, Map<String, Entry> entries,
                            Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Opens and validates {@code file}; see the class comment for what is checked. */
    public static SafetensorsFile open(Path file) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + " does not exist", e);
        } catch (IOException e) {
            throw new CheckpointException("cannot open " + file + ": " + e, e);
        }
        try {
            return parse(file, ch);
        } catch (RuntimeException e) {
            closeQuietly(ch, e);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path file, FileChannel ch) {
        try {
            long fileSize = ch.size();
            if (fileSize < 8) {
                throw new CheckpointException(file + " is " + fileSize
                        + " bytes, too short for a safetensors file (8-byte header length missing)");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLen = len.getLong(0);
            // Unsigned in the format; a negative long is a huge length, equally invalid.
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > fileSize - 8) {
                throw new CheckpointException(file + ": header length " + Long.toUnsignedString(headerLen)
                        + " is invalid for a file of " + fileSize + " bytes (limit "
                        + MAX_HEADER_BYTES + "); the file is truncated or not a safetensors file");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            JsonNode root;
            try {
                root = JsonFields.MAPPER.readTree(header.array());
            } catch (JsonProcessingException e) {
                throw new CheckpointException(file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (root == null || !root.isObject()) {
                throw new CheckpointException(file + ": header must be a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = fileSize - dataStart;
            Map<String, Entry> entries = new TreeMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> field : root.properties()) {
                if (field.getKey().equals("__metadata__")) {
                    readMetadata(file, field.getValue(), metadata);
                } else {
                    Entry e = entry(file, field.getKey(), field.getValue(), dataSize);
                    entries.put(e.name(), e);
                }
            }
            return new SafetensorsFile(file, ch, dataStart, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e, e);
        }
    }

    private static Entry entry(Path file, String name, JsonNode v, long dataSize) {
        String where = "tensor " + name + " in " + file;
        if (!v.isObject()) {
            throw new CheckpointException(where + ": header entry must be an object, got " + v);
        }
        JsonNode dt = v.get("dtype");
        JsonNode sh = v.get("shape");
        JsonNode off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) {
            throw new CheckpointException(where + ": missing or non-string \"dtype\"");
        }
        if (sh == null || !sh.isArray()) {
            throw new CheckpointException(where + ": missing or non-list \"shape\"");
        }
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).canConvertToLong()
                || !off.get(1).canConvertToLong() || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()) {
            throw new CheckpointException(where + ": \"data_offsets\" must be [begin, end], got " + off);
        }
        int[] shape = new int[sh.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || d.asLong() < 0 || d.asLong() > Integer.MAX_VALUE) {
                throw new CheckpointException(where + ": bad dimension " + d + " in shape " + sh);
            }
            shape[i] = d.asInt();
            elements = multiply(where, elements, shape[i]);
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end + "] are invalid");
        }
        if (end > dataSize) {
            throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end
                    + "] run past the end of the data (" + dataSize + " bytes); the file is truncated");
        }
        String dtype = dt.asText();
        Integer elemBytes = DTYPE_BYTES.get(dtype);
        if (elemBytes != null && multiply(where, elements, elemBytes) != end - begin) {
            throw new CheckpointException(where + ": shape " + sh + " of " + dtype + " needs "
                    + elements * elemBytes + " bytes but data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long multiply(String where, long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": shape is too large", e);
        }
    }

    private static void readMetadata(Path file, JsonNode v, Map<String, String> out) {
        if (!v.isObject()) {
            throw new CheckpointException(file + ": \"__metadata__\" must be an object of strings, got " + v);
        }
        v.properties().forEach(e -> out.put(e.getKey(), e.getValue().isTextual()
                ? e.getValue().asText() : e.getValue().toString()));
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    public Path file() {
        return file;
    }

    /** Tensor names, sorted; {@code __metadata__} is not a tensor. */
    public Set<String> tensorNames() {
        return entries.keySet();
    }

    public boolean has(String name) {
        return entries.containsKey(name);
    }

    /** The header's free-form {@code __metadata__} (e.g. {"format": "pt"}); empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor's bytes, mapped on first use; see {@link SafeTensor#data()}. */
    public SafeTensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException("tensor " + name + " not found in " + file);
        }
        DType dtype = DType.fromSafetensors(e.dtype());
        if (dtype == null) {
            throw new CheckpointException("unsupported dtype " + e.dtype() + " for tensor " + name + " in "
                    + file + "; supported: F32, F16, BF16");
        }
        long length = e.end() - e.begin();
        if (length > Integer.MAX_VALUE) {
            throw new CheckpointException("tensor " + name + " in " + file + " is " + length
                    + " bytes; tensors over 2 GiB cannot be mapped into one buffer");
        }
        MappedByteBuffer buf = mapped.computeIfAbsent(name, n -> map(e, length));
        ByteBuffer view = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        return new SafeTensor(name, file, dtype, e.shape().clone(), view);
    }

    private MappedByteBuffer map(Entry e, long length) {
        if (closed) {
            throw new CheckpointException(file + " is closed; cannot read tensor " + e.name());
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), length);
        } catch (IOException ex) {
            throw new CheckpointException("cannot map tensor " + e.name() + " in " + file + ": " + ex, ex);
        }
    }

    /**
     * Drops our mappings and closes the file. Java unmaps a buffer only when it is garbage
     * collected, so views handed out earlier stay readable until then; forcing an unmap would
     * crash the JVM on a later read of such a view.
     */
    @Override
    public void close() {
        closed = true;
        mapped.clear();
        try {
            channel.close();
        } catch (IOException e) {
            throw new CheckpointException("cannot close " + file + ": " + e, e);
        }
    }

    private static void closeQuietly(FileChannel ch, RuntimeException primary) {
        try {
            ch.close();
        } catch (IOException e) {
            primary.addSuppressed(e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + entries.size() + " tensors]";
    }
}
