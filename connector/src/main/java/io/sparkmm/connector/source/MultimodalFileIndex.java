package io.sparkmm.connector.source;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import io.sparkmm.connector.source.MultimodalReadOptions.Config;
import io.sparkmm.connector.source.MultimodalReadOptions.Modality;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.GlobFilter;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.AnalysisException;

/**
 * Finds the media files of a read through Hadoop's FileSystem (so {@code file:}, {@code hdfs://},
 * {@code s3a://} and whatever else the Hadoop configuration knows), on the driver.
 *
 * <p>Rules, as in Spark's file sources where they have one: paths may be globs; names starting
 * with {@code .} or {@code _} (and {@code ._COPYING_} uploads) are hidden, below a given path
 * or among a glob's matches, but a file named explicitly is read; {@code pathGlobFilter}
 * matches file names only. Only files with a media extension are kept (unless
 * {@code sniffUnknownExtensions}), so side files are never opened.
 */
final class MultimodalFileIndex {

    /** Extension (lower case, no dot) -> the modality it suggests; magic bytes may overrule it. */
    static final Map<String, Modality> EXTENSIONS = Map.ofEntries(
            Map.entry("jpg", Modality.IMAGE), Map.entry("jpeg", Modality.IMAGE), Map.entry("png", Modality.IMAGE),
            Map.entry("webp", Modality.IMAGE), Map.entry("bmp", Modality.IMAGE), Map.entry("gif", Modality.IMAGE),
            Map.entry("wav", Modality.AUDIO), Map.entry("flac", Modality.AUDIO), Map.entry("mp3", Modality.AUDIO),
            Map.entry("ogg", Modality.AUDIO), Map.entry("m4a", Modality.AUDIO),
            Map.entry("mp4", Modality.VIDEO), Map.entry("webm", Modality.VIDEO), Map.entry("mkv", Modality.VIDEO),
            Map.entry("avi", Modality.VIDEO));

    private MultimodalFileIndex() {
    }

    /** The modality a file name's extension suggests, or null. */
    static Modality modalityOfName(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? null : EXTENSIONS.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** Hidden like in Spark: dot files, {@code _SUCCESS}/{@code _temporary}, unfinished copies. */
    static boolean isHidden(String name) {
        return name.startsWith(".") || name.startsWith("_") || name.endsWith("._COPYING_");
    }

    /**
     * The statuses each path names (a glob may name many). Fails like Spark's "Path does not
     * exist" when a path or a glob names nothing, so a typo is an error on {@code load()}, not
     * an empty result.
     */
    static List<FileStatus> resolveRoots(Config config, Configuration conf) {
        List<FileStatus> roots = new ArrayList<>();
        for (String p : config.paths()) {
            Path path = new Path(p);
            try {
                FileSystem fs = path.getFileSystem(conf);
                Path qualified = fs.makeQualified(path);
                if (isGlob(p)) {
                    FileStatus[] matches = fs.globStatus(qualified);
                    if (matches == null || matches.length == 0) {
                        throw pathNotFound(qualified);
                    }
                    Arrays.stream(matches).filter(s -> !isHidden(s.getPath().getName())).forEach(roots::add);
                } else {
                    roots.add(fs.getFileStatus(qualified));
                }
            } catch (FileNotFoundException e) {
                throw pathNotFound(path);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + p + ": " + e.getMessage(), e);
            }
        }
        return roots;
    }

    /** All media files below the paths, each once, in path order. */
    static List<MultimodalPartition.FileEntry> list(Config config, Configuration conf) {
        GlobFilter nameFilter = nameFilter(config.pathGlobFilter());
        Map<String, MultimodalPartition.FileEntry> files = new LinkedHashMap<>();   // a file under two globs counts once
        for (FileStatus root : resolveRoots(config, conf)) {
            try {
                if (root.isFile()) {
                    addIfWanted(root, config, nameFilter, files);
                } else {
                    walk(root.getPath(), config, conf, nameFilter, files);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + root.getPath() + ": " + e.getMessage(), e);
            }
        }
        List<MultimodalPartition.FileEntry> out = new ArrayList<>(files.values());
        out.sort(Comparator.comparing(MultimodalPartition.FileEntry::path));
        return out;
    }

    private static void walk(Path dir, Config config, Configuration conf, GlobFilter nameFilter,
                             Map<String, MultimodalPartition.FileEntry> files) throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        Deque<Path> pending = new ArrayDeque<>();
        pending.push(dir);
        while (!pending.isEmpty()) {
            for (FileStatus s : fs.listStatus(pending.pop())) {
                if (isHidden(s.getPath().getName())) {
                    continue;
                }
                if (s.isDirectory()) {
                    if (config.recursiveFileLookup()) {
                        pending.push(s.getPath());
                    }
                } else {
                    addIfWanted(s, config, nameFilter, files);
                }
            }
        }
    }

    private static void addIfWanted(FileStatus s, Config config, GlobFilter nameFilter,
                                    Map<String, MultimodalPartition.FileEntry> files) {
        Path p = s.getPath();
        if (nameFilter != null && !nameFilter.accept(p)) {
            return;
        }
        if (modalityOfName(p.getName()) == null && !config.sniffUnknownExtensions()) {
            return;
        }
        String key = p.toString();
        files.putIfAbsent(key,
                new MultimodalPartition.FileEntry(key, p.toUri().toString(), s.getLen(), s.getModificationTime()));
    }

    private static GlobFilter nameFilter(String glob) {
        if (glob == null) {
            return null;
        }
        try {
            return new GlobFilter(glob);
        } catch (IOException e) {
            throw new IllegalArgumentException("pathGlobFilter '" + glob + "': " + e.getMessage(), e);
        }
    }

    /** Hadoop's glob characters; a path without them is looked up as is. */
    private static boolean isGlob(String p) {
        for (char c : "{}[]*?\\".toCharArray()) {
            if (p.indexOf(c) >= 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Spark's own error for this ({@code PATH_NOT_FOUND}), so users and tools see the message
     * they know. AnalysisException is a checked exception to javac (Scala has none), and the
     * DataSource V2 methods we throw it from declare nothing: it is rethrown unchecked.
     */
    private static RuntimeException pathNotFound(Path p) {
        throw MultimodalFileIndex.<RuntimeException>sneaky(
                new AnalysisException("PATH_NOT_FOUND", new scala.collection.immutable.Map.Map1<>("path", p.toString())));
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
