package io.sparkmm.connector.generate;

import io.sparkmm.connector.media.HadoopRemoteFiles;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

import java.util.Iterator;

/**
 * The task side of {@link MultimodalGenerator}: reads each {@code Row}'s inputs and runs the
 * partition through a {@link TaskWindow}. Holds only serializable settings, never the generator or
 * the session.
 */
final class PartitionGenerator implements MapPartitionsFunction<Row, Row> {

    private final GeneratorSettings settings;
    private final InputColumns columns;
    private final GeneratorMetrics metrics;
    /** The session's Hadoop configuration, broadcast by the driver: media paths are read with the job's settings. */
    private final Broadcast<SerializableConfiguration> hadoopConf;

    PartitionGenerator(GeneratorSettings settings, StructType inputSchema, GeneratorMetrics metrics,
                       Broadcast<SerializableConfiguration> hadoopConf) {
        this.settings = settings;
        this.columns = new InputColumns(settings, inputSchema);
        this.metrics = metrics;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        int partition = TaskWindow.partition();
        return TaskWindow.open(settings, new HadoopRemoteFiles(hadoopConf.value().value()), metrics, rows,
                new OrderedWindow.RowHandler<>() {
                    @Override
                    public RowInput input(Row row, long index) {
                        return columns.read(row, index, partition);
                    }

                    @Override
                    public Row output(Row row, Object[] result) {
                        Object[] values = new Object[row.length() + 1];
                        for (int i = 0; i < row.length(); i++) {
                            values[i] = row.get(i);
                        }
                        values[row.length()] = RowFactory.create(result);
                        return RowFactory.create(values);
                    }
                });
    }
}
