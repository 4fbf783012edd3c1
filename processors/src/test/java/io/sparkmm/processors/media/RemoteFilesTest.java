package io.sparkmm.processors.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MediaSource#ofPath(String, RemoteFiles)}: non-local URIs go through the caller's
 * reader (which inside Spark carries the job's Hadoop configuration), local ones never do, and
 * the size limit and "no such file" behave as for local files.
 */
class RemoteFilesTest {

    /** Serves fixed contents and records every call, so the test sees what was opened. */
    private static final class Recording implements RemoteFiles {
        final Map<String, byte[]> files;
        final List<String> calls = new ArrayList<>();

        Recording(Map<String, byte[]> files) {
            this.files = files;
        }

        @Override
        public synchronized long length(String uri) throws IOException {
            calls.add("length " + uri);
            byte[] b = files.get(uri);
            if (b == null) {
                throw new FileNotFoundException(uri);
            }
            return b.length;
        }

        @Override
        public synchronized InputStream open(String uri) throws IOException {
            calls.add("open " + uri);
            if (uri.contains("broken")) {
                throw new IOException("endpoint refused the credentials");
            }
            return new ByteArrayInputStream(files.get(uri));
        }

        @Override
        public String toString() {
            return "recording reader";
        }
    }

    @Test
    void remoteUrisAreReadThroughTheGivenReader() {
        Recording r = new Recording(Map.of("s3a://b/a.png", new byte[] {1, 2, 3}, "s3a://b/broken.png", new byte[1]));
        MediaLimits l = MediaLimits.defaults();

        assertThat(MediaSource.ofPath("s3a://b/a.png", r).bytes(l)).containsExactly(1, 2, 3);
        assertThat(r.calls).containsExactly("length s3a://b/a.png", "open s3a://b/a.png");

        assertThatThrownBy(() -> MediaSource.ofPath("s3a://b/none.png", r).bytes(l))
                .isInstanceOf(MediaException.class).hasMessage("s3a://b/none.png: no such file");
        assertThatThrownBy(() -> MediaSource.ofPath("s3a://b/broken.png", r).bytes(l))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining("cannot read through recording reader")
                .hasMessageContaining("endpoint refused the credentials");
    }

    @Test
    void oversizedRemoteFilesAreRefusedBeforeOpening() {
        Recording r = new Recording(Map.of("hdfs://nn/big.png", new byte[10]));
        assertThatThrownBy(() -> MediaSource.ofPath("hdfs://nn/big.png", r).bytes(MediaLimits.defaults().withMaxFileBytes(4)))
                .isInstanceOf(MediaException.class).hasMessageContaining("10 bytes");
        assertThat(r.calls).containsExactly("length hdfs://nn/big.png");
    }

    @Test
    void localPathsNeverGoThroughTheReader(@TempDir Path dir) throws IOException {
        Path f = Files.write(dir.resolve("a.bin"), new byte[] {7});
        Recording r = new Recording(Map.of());
        assertThat(MediaSource.ofPath(f.toString(), r).bytes(MediaLimits.defaults())).containsExactly(7);
        assertThat(MediaSource.ofPath(f.toUri().toString(), r).bytes(MediaLimits.defaults())).containsExactly(7);
        // native decoders open local files themselves
        assertThat(MediaSource.ofPath(f.toString(), r).localFile(MediaLimits.defaults())).contains(f);
        assertThat(r.calls).isEmpty();
    }
}
