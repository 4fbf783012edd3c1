package io.sparkmm.connector.source;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import io.sparkmm.processors.media.MediaLimits;
import org.apache.hadoop.fs.GlobFilter;
import org.apache.spark.network.util.JavaUtils;

/**
 * Every option of the {@code multimodal} data source, declared once: name, default, doc and
 * validation. {@link #parse} turns the reader's options into a typed {@link Config}; an unknown
 * key or a bad value fails there, i.e. on {@code load()}, with a message naming the key and
 * the value (and, for an unknown key, the nearest known one).
 *
 * <p>Keys are case-insensitive, as everywhere in Spark's reader options. Keys starting with
 * {@code fs.} are not ours: they are passed to the Hadoop configuration used for listing and
 * reading (per-read credentials for {@code s3a://} and the like), as Spark's file sources do.
 */
public final class MultimodalReadOptions {

    /** Modalities the source knows, in the spelling of the {@code modality} column. */
    public enum Modality {
        IMAGE, AUDIO, VIDEO;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What the defaults of the byte-planning options come from: the session, at analysis time. */
    public record SessionDefaults(long maxPartitionBytes, long openCostInBytes, int minPartitions) {
    }

    /** One declared option. {@code defaultDoc} is what the docs say when the default is not a constant. */
    public record Spec<T>(String name, String defaultDoc, String doc, Function<String, T> parser,
                          Function<SessionDefaults, T> defaultValue) {

        T value(Map<String, String> lowerCased, SessionDefaults session) {
            String raw = lowerCased.get(name.toLowerCase(Locale.ROOT));
            if (raw == null) {
                return defaultValue.apply(session);
            }
            try {
                return parser.apply(raw.trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Invalid value '" + raw + "' for option '" + name
                        + "' of the multimodal data source: " + e.getMessage(), e);
            }
        }
    }

    /** The validated options of one read. Serializable: it travels to the executors. */
    public record Config(List<String> paths, Set<Modality> modalities, String pathGlobFilter,
                         boolean recursiveFileLookup, boolean probe, long maxFileBytes, long maxPartitionBytes,
                         long openCostInBytes, int minPartitions, boolean sniffUnknownExtensions,
                         Map<String, String> hadoopOptions) implements Serializable {

        /** True when the {@code modality} option leaves some modality out. */
        public boolean filtersModality() {
            return modalities.size() < Modality.values().length;
        }
    }

    public static final Spec<Set<Modality>> MODALITY = new Spec<>("modality", "image,audio,video",
            "Comma-separated modalities to return (image, audio, video). Decided per file from the"
                    + " magic bytes, the extension when they are unreadable.",
            MultimodalReadOptions::parseModalities, s -> Collections.unmodifiableSet(EnumSet.allOf(Modality.class)));
    public static final Spec<String> PATH_GLOB_FILTER = new Spec<>("pathGlobFilter", "none",
            "Hadoop glob that file names (not directories) must match, as in Spark's file sources.",
            MultimodalReadOptions::parseGlob, s -> null);
    public static final Spec<Boolean> RECURSIVE_FILE_LOOKUP = new Spec<>("recursiveFileLookup", "true",
            "Descend into sub-directories. True by default, unlike Spark's file sources: media"
                    + " collections are usually trees, and this source has no partition columns to infer.",
            MultimodalReadOptions::parseBoolean, s -> true);
    public static final Spec<Boolean> PROBE = new Spec<>("probe", "false",
            "Add width, height, duration_s, fps, sample_rate, channels and probe_error, read from"
                    + " headers (images) or FFmpeg's demuxer (audio, video), without decoding.",
            MultimodalReadOptions::parseBoolean, s -> false);
    public static final Spec<Long> MAX_FILE_BYTES = new Spec<>("maxFileBytes", "512m",
            "Largest file whose content is read; a larger one keeps its row, with content null and"
                    + " read_error saying why. At most 2147483639 (one Java array).",
            v -> parseBytes(v, 1, Integer.MAX_VALUE - 8L), s -> MediaLimits.DEFAULT_MAX_FILE_BYTES);
    public static final Spec<Long> MAX_PARTITION_BYTES = new Spec<>("maxPartitionBytes",
            "the session's spark.sql.files.maxPartitionBytes",
            "Most bytes (file sizes plus the open cost of each file) packed into one partition.",
            v -> parseBytes(v, 1, Long.MAX_VALUE), SessionDefaults::maxPartitionBytes);
    public static final Spec<Long> OPEN_COST_IN_BYTES = new Spec<>("openCostInBytes",
            "the session's spark.sql.files.openCostInBytes",
            "What opening a file is counted as, in bytes, when packing partitions (so many small"
                    + " files do not all land in one task).",
            v -> parseBytes(v, 0, Long.MAX_VALUE), SessionDefaults::openCostInBytes);
    public static final Spec<Integer> MIN_PARTITIONS = new Spec<>("minPartitions",
            "spark.sql.files.minPartitionNum, else the default parallelism",
            "Partitions wanted at least: shrinks the bytes per partition below maxPartitionBytes when"
                    + " the files are few or small (never below openCostInBytes), as Spark does.",
            v -> (int) parseLong(v, 1, Integer.MAX_VALUE), SessionDefaults::minPartitions);
    public static final Spec<Boolean> SNIFF_UNKNOWN_EXTENSIONS = new Spec<>("sniffUnknownExtensions", "false",
            "Also consider files without a media extension, kept only when their magic bytes name a"
                    + " modality. Off by default so that side files (.json, .txt, _SUCCESS) are never opened.",
            MultimodalReadOptions::parseBoolean, s -> false);

    /** All options, in the order the docs list them. */
    public static final List<Spec<?>> ALL = List.of(MODALITY, PATH_GLOB_FILTER, RECURSIVE_FILE_LOOKUP, PROBE,
            MAX_FILE_BYTES, MAX_PARTITION_BYTES, OPEN_COST_IN_BYTES, MIN_PARTITIONS, SNIFF_UNKNOWN_EXTENSIONS);

    /** Set by {@code DataFrameReader.load(path)} / {@code load(paths...)}, not by users. */
    private static final String PATH = "path";
    private static final String PATHS = "paths";
    private static final String HADOOP_PREFIX = "fs.";

    private MultimodalReadOptions() {
    }

    /** Validates every key and value; throws {@link IllegalArgumentException} naming the first bad one. */
    public static Config parse(Map<String, String> options, SessionDefaults session) {
        Map<String, String> lower = new LinkedHashMap<>();
        Map<String, String> hadoop = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            String k = key.toLowerCase(Locale.ROOT);
            if (k.startsWith(HADOOP_PREFIX)) {
                hadoop.put(key, e.getValue());
            } else if (k.equals(PATH) || k.equals(PATHS) || ALL.stream().anyMatch(s -> s.name().equalsIgnoreCase(k))) {
                lower.put(k, e.getValue());
            } else {
                throw unknown(key, e.getValue());
            }
        }
        return new Config(paths(lower), MODALITY.value(lower, session), PATH_GLOB_FILTER.value(lower, session),
                RECURSIVE_FILE_LOOKUP.value(lower, session), PROBE.value(lower, session),
                MAX_FILE_BYTES.value(lower, session), MAX_PARTITION_BYTES.value(lower, session),
                OPEN_COST_IN_BYTES.value(lower, session), MIN_PARTITIONS.value(lower, session),
                SNIFF_UNKNOWN_EXTENSIONS.value(lower, session), Collections.unmodifiableMap(hadoop));
    }

    /** A table of the options for docs: name, default, description. */
    public static String describe() {
        return ALL.stream().map(s -> s.name() + " (default: " + s.defaultDoc() + ")\n    " + s.doc())
                .collect(Collectors.joining("\n"));
    }

    private static List<String> paths(Map<String, String> lower) {
        List<String> out = new ArrayList<>();
        if (lower.containsKey(PATH)) {
            out.add(lower.get(PATH));
        }
        if (lower.containsKey(PATHS)) {
            try {
                out.addAll(List.of(new ObjectMapper().readValue(lower.get(PATHS), String[].class)));
            } catch (IOException e) {
                throw new IllegalArgumentException("Invalid value '" + lower.get(PATHS) + "' for option 'paths':"
                        + " expected a JSON array of strings, as DataFrameReader.load(paths...) writes", e);
            }
        }
        if (out.isEmpty() || out.stream().anyMatch(p -> p == null || p.isBlank())) {
            throw new IllegalArgumentException("The multimodal data source needs a path: "
                    + "spark.read.format(\"multimodal\").load(\"/data/media\") (a directory, file or glob)");
        }
        return List.copyOf(out);
    }

    private static IllegalArgumentException unknown(String key, String value) {
        String k = key.toLowerCase(Locale.ROOT);
        String nearest = null;
        int best = Integer.MAX_VALUE;
        for (Spec<?> s : ALL) {
            int d = editDistance(k, s.name().toLowerCase(Locale.ROOT));
            if (d < best) {
                best = d;
                nearest = s.name();
            }
        }
        return new IllegalArgumentException("Unknown option '" + key + "' (value '" + value
                + "') for the multimodal data source; did you mean '" + nearest + "'? Known options: "
                + ALL.stream().map(Spec::name).collect(Collectors.joining(", "))
                + " (and fs.* keys, passed to the Hadoop configuration)");
    }

    /** Levenshtein distance: insertions, deletions and substitutions each cost one. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static Set<Modality> parseModalities(String v) {
        Set<Modality> out = EnumSet.noneOf(Modality.class);
        for (String part : v.split(",")) {
            String p = part.trim().toUpperCase(Locale.ROOT);
            try {
                out.add(Modality.valueOf(p));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("expected a comma-separated list of image, audio, video; '"
                        + part.trim() + "' is none of them");
            }
        }
        return Collections.unmodifiableSet(out);
    }

    private static String parseGlob(String v) {
        if (v.isEmpty()) {
            throw new IllegalArgumentException("expected a glob such as *.jpg, got an empty string");
        }
        try {
            new GlobFilter(v);   // compiles the pattern: a syntax error surfaces here, not in a task
        } catch (IOException e) {
            throw new IllegalArgumentException("not a valid Hadoop glob (" + e.getMessage() + ")");
        }
        return v;
    }

    private static boolean parseBoolean(String v) {
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("expected true or false");
    }

    private static long parseBytes(String v, long min, long max) {
        long n;
        try {
            n = JavaUtils.byteStringAsBytes(v);   // Spark's spelling: 1048576, 1024k, 64m, 1g (binary units)
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("expected a byte size such as 134217728, 64m or 1g");
        }
        return checkRange(n, min, max);
    }

    private static long parseLong(String v, long min, long max) {
        try {
            return checkRange(Long.parseLong(v), min, max);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected an integer");
        }
    }

    private static long checkRange(long n, long min, long max) {
        if (n < min || n > max) {
            throw new IllegalArgumentException("expected a value in [" + min + ", " + max + "]");
        }
        return n;
    }
}
