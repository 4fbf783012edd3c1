package io.sparkmm.connector.generate;

import io.sparkmm.engine.EngineResult;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;

/**
 * Spark accumulators of one transform, registered by name so they show in the Spark UI's stage
 * page. As with any accumulator updated inside a transformation, a stage that runs twice (two
 * actions on an uncached result, task retries) counts twice.
 */
public final class GeneratorMetrics implements Serializable {

    private final LongAccumulator rows;
    private final LongAccumulator promptTokens;
    private final LongAccumulator generatedTokens;
    private final LongAccumulator cachedTokens;
    private final LongAccumulator errors;

    public GeneratorMetrics(SparkContext sc) {
        rows = sc.longAccumulator("sparkmm.rows");
        promptTokens = sc.longAccumulator("sparkmm.promptTokens");
        generatedTokens = sc.longAccumulator("sparkmm.generatedTokens");
        cachedTokens = sc.longAccumulator("sparkmm.cachedTokens");
        errors = sc.longAccumulator("sparkmm.errors");
    }

    void record(EngineResult r) {
        rows.add(1);
        if (r == null || !r.ok()) {
            errors.add(1);
        }
        if (r != null) {
            promptTokens.add(r.promptTokens());
            generatedTokens.add(r.completionTokens());
            cachedTokens.add(r.cachedTokens());
        }
    }

    public long rows() {
        return rows.value();
    }

    public long promptTokens() {
        return promptTokens.value();
    }

    public long generatedTokens() {
        return generatedTokens.value();
    }

    public long cachedTokens() {
        return cachedTokens.value();
    }

    public long errors() {
        return errors.value();
    }

    /** One progress line for a finished action that took {@code seconds}: rows, errors, rates, cache use. */
    public String summary(double seconds) {
        return String.format(java.util.Locale.ROOT, "%d rows, %d errors in %.1f s: %.1f rows/s, %.1f generated tokens/s "
                        + "(%d prompt tokens, %d from the prefix cache)", rows(), errors(), seconds, rows() / seconds,
                generatedTokens() / seconds, promptTokens(), cachedTokens());
    }

    @Override
    public String toString() {
        return "rows=" + rows() + " errors=" + errors() + " promptTokens=" + promptTokens() + " generatedTokens="
                + generatedTokens() + " cachedTokens=" + cachedTokens();
    }
}
