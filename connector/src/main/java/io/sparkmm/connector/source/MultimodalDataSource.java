package io.sparkmm.connector.source;

import java.util.Map;
import io.sparkmm.connector.source.MultimodalReadOptions.Config;
import io.sparkmm.connector.source.MultimodalReadOptions.SessionDefaults;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.classic.SparkSession;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * {@code spark.read.format("multimodal").load("/data/media")}: media files (images, audio,
 * video) as rows of path, modality, content and file facts, optionally with probed sizes and
 * durations. See {@link MultimodalReadOptions} for the options and {@link MultimodalTable} for
 * the schema.
 *
 * <p>Options are validated and the paths checked for existence here, on {@code load()}, so a
 * typo fails before any job runs.
 */
public final class MultimodalDataSource implements TableProvider, DataSourceRegister {

    public static final String SHORT_NAME = "multimodal";

    @Override
    public String shortName() {
        return SHORT_NAME;
    }

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        return MultimodalTable.schema(parse(options.asCaseSensitiveMap()).probe());
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        Config config = parse(properties);
        MultimodalFileIndex.resolveRoots(config, hadoopConf(config));
        return new MultimodalTable(config);
    }

    /** The schema is ours to say; a user-given one would be ignored, so Spark refuses it. */
    @Override
    public boolean supportsExternalMetadata() {
        return false;
    }

    private static Config parse(Map<String, String> options) {
        return MultimodalReadOptions.parse(options, sessionDefaults());
    }

    /** Read when the options are parsed, so a session setting changed before load() counts. */
    static SessionDefaults sessionDefaults() {
        SQLConf conf = SQLConf.get();
        Object minPartitions = conf.filesMinPartitionNum().getOrElse(
                () -> SparkSession.active().sparkContext().defaultParallelism());
        return new SessionDefaults(conf.filesMaxPartitionBytes(), conf.filesOpenCostInBytes(),
                Math.max(1, (Integer) minPartitions));
    }

    /** The session's Hadoop configuration (SparkContext's plus session SQL settings) and the read's fs.* options. */
    static Configuration hadoopConf(Config config) {
        Configuration conf = SparkSession.active().sessionState().newHadoopConf();
        config.hadoopOptions().forEach(conf::set);
        return conf;
    }
}
