package io.sparkmm.processors.media;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where a media item's bytes come from: bytes already in memory (a DataFrame binary column) or
 * a path. Paths may be local ({@code /data/a.jpg}, {@code file:/data/a.jpg},
 * {@code file:///data/a.jpg}) or any Hadoop file system URI ({@code hdfs://}, {@code s3a://},
 * ...); the latter are read through Hadoop's {@code FileSystem} when Hadoop is on the classpath
 * (as it is inside Spark), without a compile-time dependency on Hadoop.
 *
 * <p>Immutable and thread-safe; nothing is read until {@link #bytes(MediaLimits)}.
 */
public final class MediaSource {

    /** A URI scheme of two or more characters; one letter followed by ':' is a Windows drive. */
    private static final Pattern SCHEME = Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]+):.*", Pattern.DOTALL);
    /** Java arrays stop a little below 2^31 elements. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final String name;
    private final byte[] data;       // non-null for ofBytes
    private final String location;   // non-null for ofPath
    private final RemoteFiles remote;   // null: Hadoop with the classpath's configuration (HadoopFiles)

    private MediaSource(String name, byte[] data, String location, RemoteFiles remote) {
        this.name = name;
        this.data = data;
        this.location = location;
        this.remote = remote;
    }

    /** Bytes in memory; {@code name} identifies the item in error messages (for example a row key). */
    public static MediaSource ofBytes(String name, byte[] data) {
        if (data == null) {
            throw new IllegalArgumentException("data must not be null (item " + name + ")");
        }
        return new MediaSource(name == null ? "<bytes>" : name, data, null, null);
    }

    /**
     * A local path, a {@code file:} URI or a Hadoop file system URI; the latter read with a
     * Hadoop configuration built from the classpath only (fine outside Spark; inside Spark use
     * {@link #ofPath(String, RemoteFiles)} so the job's settings apply).
     */
    public static MediaSource ofPath(String pathOrUri) {
        return ofPath(pathOrUri, null);
    }

    /**
     * A local path, a {@code file:} URI, or any other URI read through {@code remote} (null:
     * as {@link #ofPath(String)}). Local files never go through {@code remote}, so native
     * decoders can still open them directly.
     */
    public static MediaSource ofPath(String pathOrUri, RemoteFiles remote) {
        if (pathOrUri == null || pathOrUri.isBlank()) {
            throw new IllegalArgumentException("path must not be null or blank");
        }
        return new MediaSource(pathOrUri, null, pathOrUri, remote);
    }

    /** The caller's name for in-memory bytes, or the path as given. */
    public String name() {
        return name;
    }

    /**
     * All bytes of the item. The size is checked against {@link MediaLimits#maxFileBytes()}
     * before reading (from the file system's length) and again while reading, so an oversized
     * file is never loaded into the heap.
     */
    public byte[] bytes(MediaLimits limits) {
        if (data != null) {
            checkSize(data.length, limits);
            return data;
        }
        Optional<Path> local = localPath();
        if (local.isPresent()) {
            return readLocal(local.get(), limits);
        }
        return remote == null ? HadoopFiles.read(name, location, limits) : readRemote(limits);
    }

    private byte[] readRemote(MediaLimits limits) {
        try {
            checkSize(remote.length(location), limits);   // before opening the stream
            try (InputStream in = remote.open(location)) {
                return readBounded(name, in, limits);
            }
        } catch (FileNotFoundException e) {
            throw new MediaException(name, "no such file");
        } catch (IOException | RuntimeException e) {
            if (e instanceof MediaException m) {
                throw m;
            }
            throw new MediaException(name, "cannot read through " + remote, e);
        }
    }

    /**
     * The local file to hand to a native decoder directly (no copy through the heap), or empty
     * for in-memory bytes and remote URIs. Throws if it is missing or over the size limit.
     */
    Optional<Path> localFile(MediaLimits limits) {
        if (data != null) {
            return Optional.empty();
        }
        Optional<Path> local = localPath();
        if (local.isEmpty()) {
            return Optional.empty();
        }
        Path p = local.get();
        try {
            if (!Files.isRegularFile(p)) {
                throw new MediaException(name, Files.exists(p) ? "not a regular file" : "no such file");
            }
            checkSize(Files.size(p), limits);
        } catch (IOException e) {
            throw new MediaException(name, "cannot read file", e);
        }
        return local;
    }

    /** The in-memory bytes, if this source has them (no size check). */
    Optional<byte[]> inMemory() {
        return Optional.ofNullable(data);
    }

    private Optional<Path> localPath() {
        var m = SCHEME.matcher(location);
        if (!m.matches()) {
            try {
                return Optional.of(Path.of(location));
            } catch (InvalidPathException e) {
                throw new MediaException(name, "invalid path", e);
            }
        }
        if (!m.group(1).toLowerCase(Locale.ROOT).equals("file")) {
            return Optional.empty();
        }
        try {
            return Optional.of(Path.of(new URI(location)));
        } catch (URISyntaxException | IllegalArgumentException e) {
            // Hadoop-style "file:/a b.png" is not a valid java.net.URI (space); take the path part.
            String rest = location.substring(5);
            if (rest.startsWith("//")) {
                int slash = rest.indexOf('/', 2);
                if (slash < 0) {
                    throw new MediaException(name, "invalid file URI", e);
                }
                rest = rest.substring(slash);
            }
            try {
                return Optional.of(Path.of(rest));
            } catch (InvalidPathException e2) {
                throw new MediaException(name, "invalid file URI", e2);
            }
        }
    }

    private byte[] readLocal(Path p, MediaLimits limits) {
        try {
            if (Files.isDirectory(p)) {
                throw new MediaException(name, "is a directory, not a media file");
            }
            long size = Files.size(p);
            checkSize(size, limits);
            try (InputStream in = Files.newInputStream(p)) {
                return readBounded(name, in, limits);
            }
        } catch (NoSuchFileException e) {
            throw new MediaException(name, "no such file");
        } catch (AccessDeniedException e) {
            throw new MediaException(name, "permission denied");
        } catch (IOException e) {
            throw new MediaException(name, "cannot read file", e);
        }
    }

    /** Reads at most maxFileBytes (+1 to detect more), refusing a stream that is longer. */
    static byte[] readBounded(String item, InputStream in, MediaLimits limits) throws IOException {
        long cap = Math.min(limits.maxFileBytes(), MAX_ARRAY - 1);
        byte[] b = in.readNBytes((int) cap + 1);
        if (b.length > cap) {
            checkSize(item, b.length, limits);   // names the limit
            throw new MediaException(item, "larger than " + cap + " bytes, the largest in-memory buffer");
        }
        return b;
    }

    private void checkSize(long size, MediaLimits limits) {
        checkSize(name, size, limits);
    }

    static void checkSize(String item, long size, MediaLimits limits) {
        if (size > limits.maxFileBytes()) {
            throw new MediaException(item, "file is " + size + " bytes, over the limit maxFileBytes="
                    + limits.maxFileBytes());
        }
        if (size > MAX_ARRAY) {
            throw new MediaException(item, "file is " + size + " bytes, larger than one in-memory buffer ("
                    + MAX_ARRAY + ")");
        }
    }

    @Override
    public String toString() {
        return data != null ? "MediaSource[" + name + ", " + data.length + " bytes]" : "MediaSource[" + name + "]";
    }
}
