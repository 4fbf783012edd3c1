package io.sparkmm.connector.source;

import io.sparkmm.connector.source.MultimodalReadOptions.Config;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

/** Sent to the executors with the read's options, the columns to fill and the Hadoop configuration. */
public final class MultimodalReaderFactory implements PartitionReaderFactory {

    private final Config config;
    private final StructType readSchema;
    private final Broadcast<SerializableConfiguration> hadoopConf;

    MultimodalReaderFactory(Config config, StructType readSchema, Broadcast<SerializableConfiguration> hadoopConf) {
        this.config = config;
        this.readSchema = readSchema;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
        return new MultimodalPartitionReader(config, readSchema, hadoopConf.value().value(),
                ((MultimodalPartition) partition).files());
    }
}
