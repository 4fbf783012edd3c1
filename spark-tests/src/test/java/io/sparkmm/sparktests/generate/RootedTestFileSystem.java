package io.sparkmm.sparktests.generate;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * A read-only Hadoop FileSystem for made-up schemes ({@code sparkmmtest:///a/b.png}) that serves
 * the files below a local directory named by the setting {@code fs.<scheme>.root}.
 *
 * <p>It exists to tell apart "read with the job's Hadoop configuration" from "read with a fresh
 * {@code new Configuration()}": both its implementation ({@code fs.<scheme>.impl}) and its root
 * are only ever set as {@code spark.hadoop.*} session settings, so a fresh configuration cannot
 * even find the scheme, and one missing the root fails with a message naming the setting.
 */
public final class RootedTestFileSystem extends FileSystem {

    private URI uri;
    private java.nio.file.Path root;

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        super.initialize(name, conf);
        String key = "fs." + name.getScheme() + ".root";
        String dir = conf.get(key);
        if (dir == null) {
            throw new IOException(key + " is not set: the " + name.getScheme()
                    + ": file system needs it (set spark.hadoop." + key + ")");
        }
        this.uri = URI.create(name.getScheme() + ":///");
        this.root = java.nio.file.Path.of(dir);
    }

    @Override
    public String getScheme() {
        return uri == null ? "sparkmmtest" : uri.getScheme();
    }

    @Override
    public URI getUri() {
        return uri;
    }

    private java.nio.file.Path local(Path p) {
        String path = makeQualified(p).toUri().getPath();
        return root.resolve(path.startsWith("/") ? path.substring(1) : path);
    }

    private FileStatus status(java.nio.file.Path local, Path qualified) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(local, BasicFileAttributes.class);
            return new FileStatus(a.isDirectory() ? 0 : a.size(), a.isDirectory(), 1, 1 << 20,
                    a.lastModifiedTime().toMillis(), qualified);
        } catch (NoSuchFileException e) {
            throw new FileNotFoundException(qualified.toString());
        }
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        return status(local(f), makeQualified(f));
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        java.nio.file.Path dir = local(f);
        if (!Files.isDirectory(dir)) {
            return new FileStatus[] {getFileStatus(f)};
        }
        List<FileStatus> out = new ArrayList<>();
        try (Stream<java.nio.file.Path> children = Files.list(dir)) {
            for (java.nio.file.Path c : children.toList()) {
                out.add(status(c, new Path(makeQualified(f), c.getFileName().toString())));
            }
        }
        return out.toArray(new FileStatus[0]);
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        java.nio.file.Path local = local(f);
        if (!Files.isRegularFile(local)) {
            throw new FileNotFoundException(f.toString());
        }
        // the local file system's stream is seekable and positioned-readable, as FSDataInputStream needs
        return FileSystem.getLocal(getConf()).open(new Path(local.toUri()), bufferSize);
    }

    @Override
    public Path getWorkingDirectory() {
        return new Path(uri);
    }

    @Override
    public void setWorkingDirectory(Path dir) {
        throw new UnsupportedOperationException("read-only test file system");
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
                                     short replication, long blockSize, Progressable progress) {
        throw new UnsupportedOperationException("read-only test file system");
    }

    @Override
    public FSDataOutputStream append(Path f, int bufferSize, Progressable progress) {
        throw new UnsupportedOperationException("read-only test file system");
    }

    @Override
    public boolean rename(Path src, Path dst) {
        throw new UnsupportedOperationException("read-only test file system");
    }

    @Override
    public boolean delete(Path f, boolean recursive) {
        throw new UnsupportedOperationException("read-only test file system");
    }

    @Override
    public boolean mkdirs(Path f, FsPermission permission) {
        throw new UnsupportedOperationException("read-only test file system");
    }
}
