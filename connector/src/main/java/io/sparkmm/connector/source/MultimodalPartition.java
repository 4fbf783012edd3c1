package io.sparkmm.connector.source;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.connector.read.InputPartition;

/**
 * One task's share of a read: whole files (media files are never split), packed by size in
 * {@link MultimodalScan}.
 *
 * @param files the files, in the order the task reads them
 */
public record MultimodalPartition(List<FileEntry> files) implements InputPartition {

    public MultimodalPartition {
        files = List.copyOf(files);
    }

    /**
     * A listed file.
     *
     * @param path             fully qualified, as Hadoop prints it ({@code file:/data/a.jpg}): the {@code path} column
     * @param uri              the same as a URI (escaped), to open it again without re-parsing the printed form
     * @param length           bytes, from the listing
     * @param modificationTime milliseconds since the epoch, from the listing
     */
    public record FileEntry(String path, String uri, long length, long modificationTime) implements Serializable {
    }

    /** Bytes of all files, without open costs. */
    public long totalBytes() {
        return files.stream().mapToLong(FileEntry::length).sum();
    }
}
