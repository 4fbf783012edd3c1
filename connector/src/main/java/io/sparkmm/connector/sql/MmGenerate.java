package io.sparkmm.connector.sql;

import io.sparkmm.connector.engine.EngineLease;
import io.sparkmm.connector.engine.ExecutorEngines;
import io.sparkmm.connector.engine.SharedEngine;
import io.sparkmm.connector.generate.GenerationSchema;
import io.sparkmm.connector.generate.GeneratorOptions;
import io.sparkmm.connector.generate.GeneratorOptions.Mode;
import io.sparkmm.connector.generate.GeneratorSettings;
import io.sparkmm.connector.generate.RequestFactory;
import io.sparkmm.connector.media.HadoopRemoteFiles;
import io.sparkmm.connector.generate.RowInput;
import io.sparkmm.connector.generate.RowWaiter;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.RequestHandle;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.analysis.TypeCheckResult;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.NullType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StringType$;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.catalyst.CatalystTypeConverters;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.TaskCompletionListener;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code mm_generate(prompt, media [, options])}: the generation struct of one row, from the
 * executor's shared engine. The media argument is an image unless the option {@code mediaModality}
 * says audio or video. In a SELECT list or a WHERE clause, with options that are the same for
 * every row, {@link MmGenerateStrategy} plans it into {@link MmGenerateExec}, which feeds a task's
 * rows through the same ordered look-ahead window as {@code MultimodalGenerator}. Anywhere else
 * (inside a CASE branch, with options computed per row) it is evaluated here, a row at a time:
 * each call submits one request and waits. Interpreted only ({@link CodegenFallback}): the work
 * per row is a model call, not worth codegen.
 */
public final class MmGenerate extends Expression implements CodegenFallback, java.io.Serializable {

    private final List<Expression> args;
    private final String defaultModel;
    private transient Map<PreparedKey, Prepared> prepared;
    private transient volatile Boolean withLogprobs;
    private transient volatile StructType responseType;
    private transient volatile boolean responseTypeKnown;

    /** Per task attempt, so one task's end never releases an engine another task still waits on. */
    private record PreparedKey(long taskAttemptId, Map<String, String> options) {
    }

    private record Prepared(GeneratorSettings settings, EngineLease lease, RequestFactory factory, RowWaiter waiter,
                            String mediaModality) {
        SharedEngine engine() {
            return lease.engine();
        }
    }

    /** @param defaultModel the session's {@code spark.sparkmm.model}, read on the driver at analysis */
    public MmGenerate(List<Expression> args, String defaultModel) {
        if (args.size() < 2 || args.size() > 3) {
            throw new IllegalArgumentException("sparkmm: mm_generate takes (prompt, media [, options map<string,string>]), got "
                    + args.size() + " arguments");
        }
        this.args = List.copyOf(args);
        this.defaultModel = defaultModel;
    }

    @Override
    public TypeCheckResult checkInputDataTypes() {
        DataType p = args.get(0).dataType();
        if (!(p instanceof StringType) && !(p instanceof NullType)) {
            return new TypeCheckResult.TypeCheckFailure("mm_generate: prompt must be a string, got " + p.simpleString());
        }
        DataType m = args.get(1).dataType();
        DataType e = m instanceof ArrayType a ? a.elementType() : m;
        if (!(e instanceof StringType || e instanceof org.apache.spark.sql.types.BinaryType || e instanceof NullType)) {
            return new TypeCheckResult.TypeCheckFailure("mm_generate: media must be binary (content), string (a path), "
                    + "array<binary>, array<string> or NULL, got " + m.simpleString());
        }
        if (args.size() == 3 && !(args.get(2).dataType() instanceof MapType mt
                && mt.keyType() instanceof StringType && mt.valueType() instanceof StringType)) {
            return new TypeCheckResult.TypeCheckFailure("mm_generate: options must be a map<string,string>, got "
                    + args.get(2).dataType().simpleString());
        }
        return TypeCheckResult.TypeCheckSuccess$.MODULE$;
    }

    @Override
    public Object eval(InternalRow input) {
        Object promptValue = args.get(0).eval(input);
        Object media = javaMedia(args.get(1).eval(input), args.get(1).dataType());
        Map<String, String> options = args.size() == 3 ? options((MapData) args.get(2).eval(input)) : Map.of();
        TaskContext task = TaskContext.get();
        if (task != null) {
            return eval(prepareForTask(task, options), promptValue, media);
        }
        // outside a task (the driver evaluating a local relation): hold the engine for this row only,
        // which still marks it used, so idle eviction keeps counting from here
        Prepared p = prepare(options);
        try {
            return eval(p, promptValue, media);
        } finally {
            p.lease.close();
        }
    }

    private Object eval(Prepared p, Object promptValue, Object media) {
        String name = media instanceof String s ? s : "in mm_generate";
        EngineResult result;
        Object[] values;
        RequestHandle handle = null;
        try {
            var request = p.factory.build(rowInput(name, promptValue, media, p.mediaModality()));
            long submitted = System.nanoTime();
            handle = p.engine().engine().submit(request);
            result = p.waiter.await(name, handle, submitted);
            values = GenerationSchema.values(result, withLogprobs(), responseType());
        } catch (InterruptedException e) {
            // Spark kills a task by interrupting it: give the engine the row's slot back
            handle.cancel();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("sparkmm: interrupted in mm_generate while waiting for row " + name, e);
        } catch (RuntimeException e) {
            result = null;
            values = GenerationSchema.errorValues(e.getMessage() != null ? e.getMessage() : e.toString(), withLogprobs(),
                    responseType());
        }
        p.engine().recordRow(result);
        if (values[5] != null && p.settings.mode() == Mode.FAILFAST) {
            throw new IllegalStateException("sparkmm: row " + name + " failed (mode FAILFAST): " + values[5]);
        }
        return internalResult(values, withLogprobs(), responseType());
    }

    /**
     * One row's inputs from the evaluated prompt (a {@code UTF8String} or null) and media (Catalyst's
     * value of the media argument, already converted by {@link #javaMedia}), the media under the
     * {@code mediaModality} option.
     */
    static RowInput rowInput(String name, Object promptValue, Object media, String mediaModality) {
        String prompt = promptValue == null ? null : promptValue.toString();
        return switch (mediaModality) {
            case "audio" -> new RowInput(name, prompt, null, media, null);
            case "video" -> new RowInput(name, prompt, null, null, media);
            default -> new RowInput(name, prompt, media, null, null);
        };
    }

    /** GenerationSchema's external values of one result as the struct's Catalyst row. */
    static InternalRow internalResult(Object[] values, boolean withLogprobs, StructType parsed) {
        Object[] out = values.clone();
        for (int i : new int[] {0, 1, 5}) {
            out[i] = out[i] == null ? null : UTF8String.fromString((String) out[i]);
        }
        if (withLogprobs && out[6] != null) {
            out[6] = internalLogprobs(CollectionConverters.asJava((scala.collection.Seq<?>) out[6]));
        }
        int last = out.length - 1;
        if (parsed != null && out[last] != null) {
            out[last] = CatalystTypeConverters.createToCatalystConverter(parsed).apply(out[last]);
        }
        return new GenericInternalRow(out);
    }

    /** GenerationSchema's external Seq of Seq of Row(token_id, logprob) in Catalyst's internal form. */
    private static ArrayData internalLogprobs(List<?> perToken) {
        Object[] tokens = new Object[perToken.size()];
        for (int i = 0; i < tokens.length; i++) {
            List<?> top = CollectionConverters.asJava((scala.collection.Seq<?>) perToken.get(i));
            Object[] entries = new Object[top.size()];
            for (int j = 0; j < entries.length; j++) {
                org.apache.spark.sql.Row r = (org.apache.spark.sql.Row) top.get(j);
                entries[j] = new GenericInternalRow(new Object[] {r.getInt(0), r.getDouble(1)});
            }
            tokens[i] = new GenericArrayData(entries);
        }
        return new GenericArrayData(tokens);
    }

    /**
     * Whether the struct has the logprobs field: decided at analysis, so only from a constant options
     * map (the usual {@code map('logprobs', '5')}); options computed per row cannot change the type,
     * so they get no logprobs field.
     */
    boolean withLogprobs() {
        Boolean w = withLogprobs;
        if (w == null) {
            w = false;
            if (args.size() == 3 && args.get(2).foldable()) {
                String v = options((MapData) args.get(2).eval(null)).get(GeneratorOptions.LOGPROBS.name());
                w = v != null && GeneratorOptions.LOGPROBS.parse(v) > 0;
            }
            withLogprobs = w;
        }
        return w;
    }

    /**
     * The type of the struct's {@code parsed} field: decided at analysis like the logprobs field, so
     * only from a constant options map with {@code responseSchema}; null otherwise.
     */
    StructType responseType() {
        StructType t = responseType;
        if (t == null && !responseTypeKnown) {
            if (args.size() == 3 && args.get(2).foldable()) {
                String ddl = options((MapData) args.get(2).eval(null)).get(GeneratorOptions.RESPONSE_SCHEMA.name());
                t = ddl == null || ddl.isEmpty() ? null : org.apache.spark.sql.types.StructType.fromDDL(ddl);
            }
            responseType = t;
            responseTypeKnown = true;
        }
        return t;
    }

    /**
     * The task's engine for these options, held until the task ends: rows come one eval at a time
     * with no end-of-input signal, so the task completion listener is where the hold ends.
     */
    private Prepared prepareForTask(TaskContext task, Map<String, String> options) {
        if (prepared == null) {
            prepared = new ConcurrentHashMap<>();
        }
        PreparedKey key = new PreparedKey(task.taskAttemptId(), options);
        Prepared p = prepared.get(key);
        if (p != null) {
            return p;
        }
        Prepared fresh = prepare(options);
        task.addTaskCompletionListener((TaskCompletionListener) ctx -> {
            prepared.remove(key, fresh);
            fresh.lease.close();
        });
        prepared.put(key, fresh);
        return fresh;
    }

    /** Parses the options and acquires their engine; the caller closes the lease. */
    private Prepared prepare(Map<String, String> options) {
        GeneratorSettings s = settings(options);
        EngineLease lease = ExecutorEngines.acquire(s.engineKey(), s.processorCacheBytes());
        try {
            SharedEngine engine = lease.engine();
            return new Prepared(s, lease, new RequestFactory(s, engine.processor(), HadoopRemoteFiles.fromSparkEnv()),
                    new RowWaiter(s.rowTimeout(), RowWaiter.DEFAULT_SLICE, engine::isClosed), mediaModality(options));
        } catch (RuntimeException | Error e) {
            lease.close();
            throw e;
        }
    }

    /** The options over the session's default model, parsed and validated (a bad one names itself). */
    GeneratorSettings settings(Map<String, String> options) {
        Map<String, Object> values = new HashMap<>();
        if (defaultModel != null) {
            values.put(GeneratorOptions.MODEL_PATH.name(), defaultModel);
        }
        for (Map.Entry<String, String> e : options.entrySet()) {
            GeneratorOptions.Option<?> o = GeneratorOptions.byName(e.getKey());
            values.put(o.name(), o.parse(e.getValue()));
        }
        GeneratorSettings s = GeneratorSettings.from(values);
        if (s.affinity() != GeneratorOptions.Affinity.NONE) {
            // an expression sees one row at a time and cannot move rows between tasks
            throw new IllegalArgumentException("sparkmm: option 'affinity' = " + s.affinity().name().toLowerCase(java.util.Locale.ROOT)
                    + " is for MultimodalGenerator only; in SQL, place the rows yourself, e.g. DISTRIBUTE BY "
                    + "xxhash64(image) SORT BY xxhash64(image)");
        }
        return s;
    }

    static String mediaModality(Map<String, String> options) {
        String v = options.get(GeneratorOptions.MEDIA_MODALITY.name());
        return v == null ? GeneratorOptions.MEDIA_MODALITY.defaultValue() : GeneratorOptions.MEDIA_MODALITY.parse(v);
    }

    /**
     * The options map when it is the same for every row (absent, or a constant such as
     * {@code map('maxTokens', '32')}); null when it is computed per row. Only then can a task's rows
     * share one engine and one look-ahead window.
     */
    Map<String, String> constantOptions() {
        if (args.size() < 3) {
            return Map.of();
        }
        return args.get(2).foldable() ? options((MapData) args.get(2).eval(null)) : null;
    }

    Expression promptArgument() {
        return args.get(0);
    }

    Expression mediaArgument() {
        return args.get(1);
    }

    private static Map<String, String> options(MapData m) {
        Map<String, String> out = new LinkedHashMap<>();
        if (m == null) {
            return out;
        }
        Object[] keys = m.keyArray().toObjectArray(StringType$.MODULE$);
        Object[] vals = m.valueArray().toObjectArray(StringType$.MODULE$);
        for (int i = 0; i < keys.length; i++) {
            out.put(keys[i].toString(), vals[i] == null ? null : vals[i].toString());
        }
        return out;
    }

    /** Catalyst values to the plain Java values RequestFactory takes: byte[], String, List of those. */
    static Object javaMedia(Object v, DataType type) {
        if (v == null) {
            return null;
        }
        if (v instanceof UTF8String s) {
            return s.toString();
        }
        if (v instanceof ArrayData a) {
            DataType element = ((ArrayType) type).elementType();
            List<Object> out = new ArrayList<>();
            for (Object o : a.toObjectArray(element)) {
                out.add(javaMedia(o, element));
            }
            return out;
        }
        return v;
    }

    @Override
    public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
        return CodegenFallback.super.doGenCode(ctx, ev);
    }

    /**
     * Not deterministic to the optimizer, although a row's result is (seeds derive from its
     * content): a call is a model run, so it must never be duplicated into a pushed-down filter or a
     * collapsed projection, which is what Spark does with deterministic expressions.
     */
    @Override
    public boolean deterministic() {
        return false;
    }

    @Override
    public boolean nullable() {
        return false;
    }

    @Override
    public DataType dataType() {
        return GenerationSchema.result(withLogprobs(), responseType());
    }

    @Override
    public String prettyName() {
        return "mm_generate";
    }

    @Override
    public Seq<Expression> children() {
        return CollectionConverters.asScala(args).toSeq();
    }

    @Override
    public Expression withNewChildrenInternal(IndexedSeq<Expression> newChildren) {
        return new MmGenerate(CollectionConverters.asJava(newChildren), defaultModel);
    }

    @Override
    public int productArity() {
        return args.size() + 1;
    }

    @Override
    public Object productElement(int n) {
        return n < args.size() ? args.get(n) : defaultModel;
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof MmGenerate;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MmGenerate m && m.args.equals(args) && java.util.Objects.equals(m.defaultModel, defaultModel);
    }

    @Override
    public int hashCode() {
        return args.hashCode() * 31 + java.util.Objects.hashCode(defaultModel);
    }
}
