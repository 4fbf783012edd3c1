package io.sparkmm.connector.generate;

import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.sampling.TokenLogprob;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The output struct shared by the DataFrame path and {@code mm_generate}, and its conversions.
 *
 * <p>The logprobs field exists only when the logprobs option is above 0: users who do not ask
 * keep the six-field struct they had (positional access, saved tables and unions stay valid),
 * and those who ask get a field that is never null for an ok row.
 */
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

    /** One candidate of a generated position: vLLM's top-K entry. */
    public static final StructType TOKEN_LOGPROB = new StructType(new StructField[] {
        DataTypes.createStructField("token_id", DataTypes.IntegerType, false),
        DataTypes.createStructField("logprob", DataTypes.DoubleType, false),
    });

    /** RESULT + logprobs: per generated token, its top-K candidates, most likely first; null on error. */
    public static final StructType RESULT_WITH_LOGPROBS = RESULT.add("logprobs",
            DataTypes.createArrayType(DataTypes.createArrayType(TOKEN_LOGPROB, false), false), true);

    private GenerationSchema() {
    }

    public static StructType result(boolean withLogprobs) {
        return withLogprobs ? RESULT_WITH_LOGPROBS : RESULT;
    }

    /** The six values of the struct, in order (text is null on error). */
    public static Object[] values(EngineResult r) {
        if (!r.ok()) {
            return new Object[] {null, null, r.promptTokens(), 0, 0, r.error()};
        }
        return new Object[] {r.text(), r.finishReason() == null ? null : r.finishReason().wireName(), r.promptTokens(),
            r.completionTokens(), r.cachedTokens(), null};
    }

    /** The values of {@link #result(boolean)}: the six, then the logprobs when asked (as Rows, external form). */
    public static Object[] values(EngineResult r, boolean withLogprobs) {
        Object[] six = values(r);
        if (!withLogprobs) {
            return six;
        }
        Object[] out = Arrays.copyOf(six, 7);
        out[6] = r.ok() ? logprobs(r.logprobs()) : null;
        return out;
    }

    /** {@link #result(boolean)}, plus a field {@code parsed} of type {@code parsed} when that is not null. */
    public static StructType result(boolean withLogprobs, StructType parsed) {
        StructType t = result(withLogprobs);
        return parsed == null ? t : t.add("parsed", parsed, true);
    }

    /**
     * The values of {@link #result(boolean, StructType)}: with a parsed type, the text of a response
     * that ended by itself parsed into that struct; a response cut by the length limit (or one that
     * does not parse) has a null {@code parsed} and says why in {@code error}.
     */
    public static Object[] values(EngineResult r, boolean withLogprobs, StructType parsed) {
        Object[] v = values(r, withLogprobs);
        if (parsed == null) {
            return v;
        }
        Object[] out = Arrays.copyOf(v, v.length + 1);
        if (!r.ok()) {
            return out;
        }
        if (r.finishReason() != io.sparkmm.engine.generate.FinishReason.STOP) {
            out[5] = "the response hit the length limit after " + r.completionTokens()
                    + " tokens before its JSON was complete; raise maxTokens";
            return out;
        }
        try {
            out[v.length] = ResponseSchemas.parse(r.text(), parsed);
        } catch (IllegalArgumentException e) {
            out[5] = "the response does not parse as responseSchema: " + e.getMessage();
        }
        return out;
    }

    public static Object[] errorValues(String error, boolean withLogprobs, StructType parsed) {
        Object[] v = errorValues(error, withLogprobs);
        return parsed == null ? v : Arrays.copyOf(v, v.length + 1);
    }

    /** The struct of a row that failed before it reached the engine. */
    public static Object[] errorValues(String error) {
        return new Object[] {null, null, null, null, null, error};
    }

    public static Object[] errorValues(String error, boolean withLogprobs) {
        Object[] six = errorValues(error);
        return withLogprobs ? Arrays.copyOf(six, 7) : six;
    }

    /** Scala sequences: the external form Spark's row encoder takes for arrays. */
    private static Seq<Seq<Row>> logprobs(List<List<TokenLogprob>> perToken) {
        List<Seq<Row>> out = new ArrayList<>(perToken.size());
        for (List<TokenLogprob> top : perToken) {
            List<Row> rows = new ArrayList<>(top.size());
            for (TokenLogprob t : top) {
                rows.add(RowFactory.create(t.tokenId(), t.logprob()));
            }
            out.add(CollectionConverters.asScala(rows).toList());
        }
        return CollectionConverters.asScala(out).toList();
    }

    public static Row row(Object[] values) {
        return RowFactory.create(values);
    }
}
