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
    /** Rows carry TokenBalance's two added columns: a row priced with an error skips the engine, and they are dropped. */
    private final boolean priced;

    PartitionGenerator(GeneratorSettings settings, StructType inputSchema, GeneratorMetrics metrics,
                       Broadcast<SerializableConfiguration> hadoopConf, boolean priced) {
        this.settings = settings;
        this.columns = new InputColumns(settings, inputSchema);
        this.metrics = metrics;
        this.hadoopConf = hadoopConf;
        this.priced = priced;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        int partition = TaskWindow.partition();
        return TaskWindow.open(settings, new HadoopRemoteFiles(hadoopConf.value().value()), metrics, rows,
                new OrderedWindow.RowHandler<>() {
                    @Override
                    public RowInput input(Row row, long index) {
                        String refused = priced ? TokenBalance.error(row) : null;
                        if (refused != null) {
                            throw new IllegalArgumentException(refused);   // the row's error; the engine never sees it
                        }
                        return columns.read(row, index, partition);
                    }

                    @Override
                    public Row output(Row row, Object[] result) {
                        int n = row.length() - (priced ? TokenBalance.ADDED_COLUMNS : 0);
                        Object[] values = new Object[n + 1];
                        for (int i = 0; i < n; i++) {
                            values[i] = row.get(i);
                        }
                        values[n] = RowFactory.create(result);
                        return RowFactory.create(values);
                    }
                });
    }
}
