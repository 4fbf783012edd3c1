package io.sparkmm.connector.generate;

import io.sparkmm.engine.EngineResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The output struct shared by the DataFrame path and {@code mm_generate}, and its conversions. */
public final class GenerationSchema {

    /** {text, finish_reason, prompt_tokens, completion_tokens, cached_tokens, error}. */
    public static final StructType RESULT = new StructType(new StructField[] {
        DataTypes.createStructField("text", DataTypes.StringType, true),
        DataTypes.createStructField("finish_reason", DataTypes.StringType, true),
        DataTypes.createStructField("prompt_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("completion_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("cached_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    private GenerationSchema() {
    }

    /** The six values of the struct, in order (text is null on error). */
    public static Object[] values(EngineResult r) {
        if (!r.ok()) {
            return new Object[] {null, null, r.promptTokens(), 0, 0, r.error()};
        }
        return new Object[] {r.text(), r.finishReason() == null ? null : r.finishReason().wireName(), r.promptTokens(),
            r.completionTokens(), r.cachedTokens(), null};
    }

    /** The struct of a row that failed before it reached the engine. */
    public static Object[] errorValues(String error) {
        return new Object[] {null, null, null, null, null, error};
    }

    public static Row row(Object[] values) {
        return RowFactory.create(values);
    }
}
