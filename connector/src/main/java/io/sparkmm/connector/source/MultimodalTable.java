package io.sparkmm.connector.source;

import java.util.Set;
import io.sparkmm.connector.source.MultimodalReadOptions.Config;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The files under the read's paths as a table: one row per media file. Options were validated
 * when this table was made (on {@code load()}); the files are listed when a scan is planned,
 * so every action sees the directory as it is then.
 */
public final class MultimodalTable implements SupportsRead {

    public static final String PATH = "path";
    public static final String MODALITY = "modality";
    public static final String CONTENT = "content";
    public static final String LENGTH = "length";
    public static final String MODIFICATION_TIME = "modificationTime";
    public static final String READ_ERROR = "read_error";
    public static final String WIDTH = "width";
    public static final String HEIGHT = "height";
    public static final String DURATION_S = "duration_s";
    public static final String FPS = "fps";
    public static final String SAMPLE_RATE = "sample_rate";
    public static final String CHANNELS = "channels";
    public static final String PROBE_ERROR = "probe_error";

    /** Probe columns: filled by a header/demuxer read only when one of them is selected. */
    static final Set<String> PROBE_COLUMNS = Set.of(WIDTH, HEIGHT, DURATION_S, FPS, SAMPLE_RATE, CHANNELS, PROBE_ERROR);

    private final Config config;
    private final StructType schema;

    MultimodalTable(Config config) {
        this.config = config;
        this.schema = schema(config.probe());
    }

    /**
     * The schema: always path, modality, content, length, modificationTime and read_error (null
     * when the content could be read; why not, otherwise); with probe the media facts and
     * probe_error. Only path, length and modificationTime are never null.
     */
    public static StructType schema(boolean probe) {
        StructType s = new StructType()
                .add(PATH, DataTypes.StringType, false)
                .add(MODALITY, DataTypes.StringType, true)
                .add(CONTENT, DataTypes.BinaryType, true)
                .add(LENGTH, DataTypes.LongType, false)
                .add(MODIFICATION_TIME, DataTypes.TimestampType, false)
                .add(READ_ERROR, DataTypes.StringType, true);
        if (!probe) {
            return s;
        }
        return s.add(WIDTH, DataTypes.IntegerType, true)
                .add(HEIGHT, DataTypes.IntegerType, true)
                .add(DURATION_S, DataTypes.DoubleType, true)
                .add(FPS, DataTypes.DoubleType, true)
                .add(SAMPLE_RATE, DataTypes.IntegerType, true)
                .add(CHANNELS, DataTypes.IntegerType, true)
                .add(PROBE_ERROR, DataTypes.StringType, true);
    }

    Config config() {
        return config;
    }

    @Override
    public String name() {
        return "multimodal " + String.join(", ", config.paths());
    }

    /**
     * Deprecated in Table in favour of columns(), whose default derives the columns from this;
     * one of the two must be overridden, and the schema is what the rest of this source uses.
     */
    @Override
    @SuppressWarnings("deprecation")
    public StructType schema() {
        return schema;
    }

    @Override
    public Set<TableCapability> capabilities() {
        return Set.of(TableCapability.BATCH_READ);
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
        // the options are the ones this table was made with: already in config
        return new MultimodalScanBuilder(config, schema);
    }
}
