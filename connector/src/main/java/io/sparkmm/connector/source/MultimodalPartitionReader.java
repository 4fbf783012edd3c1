package io.sparkmm.connector.source;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import io.sparkmm.connector.source.MultimodalPartition.FileEntry;
import io.sparkmm.connector.source.MultimodalReadOptions.Config;
import io.sparkmm.connector.source.MultimodalReadOptions.Modality;
import io.sparkmm.processors.media.MediaInfo;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaProbe;
import io.sparkmm.processors.media.MediaSource;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Reads one partition's files into rows, doing only the work the selected columns need:
 * {@code content} reads the file, the magic bytes are read only when the modality matters
 * (selected, filtered on, probed, or the extension is unknown), and the probe runs only when a
 * probe column is selected.
 *
 * <p>No file can fail the task: an unreadable file keeps its row with {@code read_error}, a
 * failed probe with {@code probe_error}; unreadable magic bytes leave the extension's guess.
 */
final class MultimodalPartitionReader implements PartitionReader<InternalRow> {

    /** A byte array's largest size on common JVMs. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8L;

    private final Config config;
    private final String[] columns;
    private final Configuration conf;
    private final Iterator<FileEntry> files;
    private final boolean needContent;
    private final boolean needProbe;
    private final boolean needModality;
    private InternalRow row;
    private long contentBytesRead;
    private long headerBytesRead;

    MultimodalPartitionReader(Config config, StructType readSchema, Configuration conf, List<FileEntry> files) {
        this.config = config;
        this.columns = readSchema.fieldNames();
        this.conf = conf;
        this.files = files.iterator();
        Set<String> cols = Set.of(columns);
        this.needContent = cols.contains(MultimodalTable.CONTENT);
        this.needProbe = cols.stream().anyMatch(MultimodalTable.PROBE_COLUMNS::contains);
        this.needModality = cols.contains(MultimodalTable.MODALITY) || config.filtersModality() || needProbe;
    }

    @Override
    public boolean next() {
        while (files.hasNext()) {
            row = read(files.next());
            if (row != null) {
                return true;
            }
        }
        row = null;
        return false;
    }

    @Override
    public InternalRow get() {
        return row;
    }

    @Override
    public CustomTaskMetric[] currentMetricsValues() {
        return new CustomTaskMetric[] {
            metric(MultimodalScan.CONTENT_BYTES_READ, contentBytesRead),
            metric(MultimodalScan.HEADER_BYTES_READ, headerBytesRead)};
    }

    @Override
    public void close() {
        // every stream is closed by the read that opened it
    }

    /** The file's row, or null when it is filtered out (modality) or not media after all. */
    private InternalRow read(FileEntry f) {
        Modality byName = MultimodalFileIndex.modalityOfName(new Path(URI.create(f.uri())).getName());
        String readError = null;
        byte[] content = null;
        boolean oversize = f.length() > config.maxFileBytes();
        if (oversize) {
            readError = f.path() + ": file is " + f.length() + " bytes, over the limit maxFileBytes="
                    + config.maxFileBytes() + " (content not read)";
        } else if (needContent) {
            try {
                content = readAll(f);
                contentBytesRead += content.length;
            } catch (IOException | RuntimeException e) {
                readError = describe(f, e);
            }
        }
        Modality modality = byName;
        byte[] head = content;
        if (needModality || byName == null) {
            if (head == null) {
                try {
                    head = readHead(f, needProbe ? MediaProbe.IMAGE_HEADER_BYTES : MediaProbe.SNIFF_BYTES);
                } catch (IOException | RuntimeException e) {
                    readError = readError != null ? readError : describe(f, e);   // keep the extension's guess
                }
            }
            String sniffed = MediaProbe.sniff(head, byName == null ? null : byName.id());
            if (sniffed != null) {
                modality = Modality.valueOf(sniffed.toUpperCase(Locale.ROOT));
            }
        }
        if (modality == null || !config.modalities().contains(modality)) {
            return null;
        }
        MediaInfo info = null;
        String probeError = null;
        if (needProbe) {
            try {
                info = probe(f, modality, head, content, oversize);
            } catch (IOException | RuntimeException | LinkageError e) {   // a native failure costs one row, not the task
                probeError = e.getMessage() != null && e.getMessage().startsWith(f.path())
                        ? e.getMessage() : describe(f, e);
            }
        }
        return toRow(f, modality, content, readError, info, probeError);
    }

    private MediaInfo probe(FileEntry f, Modality modality, byte[] head, byte[] content, boolean oversize)
            throws IOException {
        if (modality == Modality.IMAGE) {
            byte[] bytes = content != null ? content : head;
            if (bytes == null) {
                throw new IOException("header could not be read");
            }
            try {
                return MediaProbe.probeImage(f.path(), bytes);
            } catch (RuntimeException e) {
                if (content != null || oversize || bytes.length >= f.length()) {
                    throw e;
                }
                // the size lies beyond the head (a JPEG with a large EXIF block): look at all of it
                byte[] all = readAll(f);
                headerBytesRead += all.length;
                return MediaProbe.probeImage(f.path(), all);
            }
        }
        MediaSource src;
        MediaLimits limits = MediaLimits.defaults().withMaxFileBytes(Long.MAX_VALUE);
        if (content != null) {
            src = MediaSource.ofBytes(f.path(), content);
        } else if (f.uri().startsWith("file:")) {
            src = MediaSource.ofPath(f.uri());   // FFmpeg reads a local file itself, only what it needs
        } else if (oversize) {
            throw new IOException("over the limit maxFileBytes=" + config.maxFileBytes()
                    + ", not loaded into memory to probe");
        } else {
            byte[] all = readAll(f);   // remote: FFmpeg cannot speak Hadoop's protocols
            headerBytesRead += all.length;
            src = MediaSource.ofBytes(f.path(), all);
        }
        return MediaProbe.probe(src, modality.id(), limits);
    }

    private InternalRow toRow(FileEntry f, Modality modality, byte[] content, String readError, MediaInfo info,
                              String probeError) {
        Object[] values = new Object[columns.length];
        for (int i = 0; i < columns.length; i++) {
            values[i] = switch (columns[i]) {
                case MultimodalTable.PATH -> UTF8String.fromString(f.path());
                case MultimodalTable.MODALITY -> UTF8String.fromString(modality.id());
                case MultimodalTable.CONTENT -> content;
                case MultimodalTable.LENGTH -> f.length();
                case MultimodalTable.MODIFICATION_TIME -> f.modificationTime() * 1000L;   // micros
                case MultimodalTable.READ_ERROR -> utf8(readError);
                case MultimodalTable.WIDTH -> info == null ? null : info.width();
                case MultimodalTable.HEIGHT -> info == null ? null : info.height();
                case MultimodalTable.DURATION_S -> info == null ? null : info.durationSeconds();
                case MultimodalTable.FPS -> info == null ? null : info.fps();
                case MultimodalTable.SAMPLE_RATE -> info == null ? null : info.sampleRate();
                case MultimodalTable.CHANNELS -> info == null ? null : info.channels();
                case MultimodalTable.PROBE_ERROR -> utf8(probeError);
                default -> throw new IllegalStateException("unknown column " + columns[i]);
            };
        }
        return new GenericInternalRow(values);
    }

    /** The whole file, refusing one that grew past maxFileBytes since it was listed. */
    private byte[] readAll(FileEntry f) throws IOException {
        Path p = new Path(URI.create(f.uri()));
        long cap = Math.min(config.maxFileBytes(), MAX_ARRAY - 1);
        try (InputStream in = p.getFileSystem(conf).open(p)) {
            byte[] b = in.readNBytes((int) cap + 1);
            if (b.length > cap) {
                throw new IOException("file grew past the limit maxFileBytes=" + config.maxFileBytes()
                        + " since it was listed");
            }
            return b;
        }
    }

    private byte[] readHead(FileEntry f, int max) throws IOException {
        Path p = new Path(URI.create(f.uri()));
        try (InputStream in = p.getFileSystem(conf).open(p)) {
            byte[] b = in.readNBytes((int) Math.min(max, Math.max(f.length(), MediaProbe.SNIFF_BYTES)));
            headerBytesRead += b.length;
            return b;
        }
    }

    private static String describe(FileEntry f, Throwable e) {
        return f.path() + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }

    private static UTF8String utf8(String s) {
        return s == null ? null : UTF8String.fromString(s);
    }

    private static CustomTaskMetric metric(String name, long value) {
        return new CustomTaskMetric() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public long value() {
                return value;
            }
        };
    }

    @Override
    public String toString() {
        return "MultimodalPartitionReader" + Arrays.toString(columns);
    }
}
