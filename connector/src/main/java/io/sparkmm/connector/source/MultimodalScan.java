package io.sparkmm.connector.source;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import io.sparkmm.connector.source.MultimodalPartition.FileEntry;
import io.sparkmm.connector.source.MultimodalReadOptions.Config;
import io.sparkmm.connector.source.MultimodalReadOptions.Modality;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.classic.SparkSession;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomSumMetric;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

/**
 * A planned read: lists the files (once per scan, on the driver) and packs them into
 * partitions by bytes the way Spark's FilePartition does for unsplittable files:
 *
 * <ol>
 *   <li>a file costs its length plus {@code openCostInBytes};</li>
 *   <li>the target per partition is {@code min(maxPartitionBytes, max(openCostInBytes,
 *       totalCost / minPartitions))}, so a small read still spreads over the cluster;</li>
 *   <li>files, largest first, fill the current partition until the next one would pass the
 *       target (a file larger than the target gets a partition of its own).</li>
 * </ol>
 */
public final class MultimodalScan implements Scan, Batch {

    /** Bytes of {@code content} read, summed over tasks: shows in the SQL UI, and lets tests see pruning. */
    public static final String CONTENT_BYTES_READ = "contentBytesRead";
    /** Bytes read to sniff magic numbers and probe headers. */
    public static final String HEADER_BYTES_READ = "headerBytesRead";

    private final Config config;
    private final StructType readSchema;
    private Configuration hadoopConf;
    private List<MultimodalPartition> partitions;

    MultimodalScan(Config config, StructType readSchema) {
        this.config = config;
        this.readSchema = readSchema;
    }

    @Override
    public StructType readSchema() {
        return readSchema;
    }

    /** Printed in the physical plan (BatchScan node): what is read, and the options that shape it. */
    @Override
    public String description() {
        return "MultimodalScan[paths=" + config.paths()
                + ", readColumns=" + Arrays.toString(readSchema.fieldNames())
                + ", modality=" + config.modalities().stream().map(Modality::id).collect(Collectors.joining(","))
                + (config.pathGlobFilter() == null ? "" : ", pathGlobFilter=" + config.pathGlobFilter())
                + ", recursiveFileLookup=" + config.recursiveFileLookup()
                + ", probe=" + config.probe() + "]";
    }

    @Override
    public Batch toBatch() {
        return this;
    }

    @Override
    public synchronized InputPartition[] planInputPartitions() {
        if (partitions == null) {
            List<FileEntry> files = MultimodalFileIndex.list(config, hadoopConf());
            long target = maxSplitBytes(files, config.maxPartitionBytes(), config.openCostInBytes(),
                    config.minPartitions());
            partitions = pack(files, target, config.openCostInBytes());
        }
        return partitions.toArray(new InputPartition[0]);
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
        // one broadcast per scan instead of a configuration per task (it is tens of kilobytes)
        var conf = SerializableConfiguration.broadcast(SparkSession.active().sparkContext(), hadoopConf());
        return new MultimodalReaderFactory(config, readSchema, conf);
    }

    @Override
    public CustomMetric[] supportedCustomMetrics() {
        return new CustomMetric[] {new ContentBytesRead(), new HeaderBytesRead()};
    }

    private synchronized Configuration hadoopConf() {
        if (hadoopConf == null) {
            hadoopConf = MultimodalDataSource.hadoopConf(config);
        }
        return hadoopConf;
    }

    /** Bytes per partition to aim for (see the class comment). */
    static long maxSplitBytes(List<FileEntry> files, long maxPartitionBytes, long openCost, int minPartitions) {
        long total = 0;
        for (FileEntry f : files) {
            total = saturatedAdd(total, saturatedAdd(f.length(), openCost));
        }
        long perPartition = total / Math.max(1, minPartitions);
        return Math.min(maxPartitionBytes, Math.max(openCost, perPartition));
    }

    /** Largest first, next fit: what Spark does, so partition counts match a user's expectation. */
    static List<MultimodalPartition> pack(List<FileEntry> files, long maxSplitBytes, long openCost) {
        List<FileEntry> bySize = new ArrayList<>(files);
        bySize.sort(Comparator.comparingLong(FileEntry::length).reversed().thenComparing(FileEntry::path));
        List<MultimodalPartition> out = new ArrayList<>();
        List<FileEntry> current = new ArrayList<>();
        long size = 0;
        for (FileEntry f : bySize) {
            if (!current.isEmpty() && saturatedAdd(size, f.length()) > maxSplitBytes) {
                out.add(new MultimodalPartition(current));
                current = new ArrayList<>();
                size = 0;
            }
            current.add(f);
            size = saturatedAdd(size, saturatedAdd(f.length(), openCost));
        }
        if (!current.isEmpty()) {
            out.add(new MultimodalPartition(current));
        }
        return out;
    }

    private static long saturatedAdd(long a, long b) {
        long s = a + b;
        return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
    }

    /** Spark instantiates metrics by class name on the driver: public, with a no-argument constructor. */
    public static final class ContentBytesRead extends CustomSumMetric {
        @Override
        public String name() {
            return CONTENT_BYTES_READ;
        }

        @Override
        public String description() {
            return "content bytes read";
        }
    }

    public static final class HeaderBytesRead extends CustomSumMetric {
        @Override
        public String name() {
            return HEADER_BYTES_READ;
        }

        @Override
        public String description() {
            return "header bytes read (sniffing, probing)";
        }
    }
}
