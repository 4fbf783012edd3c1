package io.sparkmm.connector.source;

import io.sparkmm.connector.source.MultimodalReadOptions.Config;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.types.StructType;

/**
 * Takes the columns the query needs, so that {@code content} (the whole file) is only read
 * when selected, and the probe only runs when a probe column is.
 */
public final class MultimodalScanBuilder implements ScanBuilder, SupportsPushDownRequiredColumns {

    private final Config config;
    private StructType required;

    MultimodalScanBuilder(Config config, StructType fullSchema) {
        this.config = config;
        this.required = fullSchema;
    }

    @Override
    public void pruneColumns(StructType requiredSchema) {
        // Spark hands us a subset of our own fields; keep our order and nullability
        StructType pruned = new StructType();
        for (var f : MultimodalTable.schema(config.probe()).fields()) {
            if (requiredSchema.getFieldIndex(f.name()).isDefined()) {
                pruned = pruned.add(f);
            }
        }
        this.required = pruned;
    }

    @Override
    public Scan build() {
        return new MultimodalScan(config, required);
    }
}
