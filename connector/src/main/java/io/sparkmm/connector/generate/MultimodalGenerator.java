package io.sparkmm.connector.generate;

import io.sparkmm.connector.generate.GeneratorOptions.Affinity;
import io.sparkmm.connector.generate.GeneratorOptions.Mode;
import io.sparkmm.connector.generate.GeneratorOptions.Option;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.sparkmm.connector.generate.GeneratorOptions.*;

/**
 * DataFrame in, DataFrame out: adds a struct column (default {@code generation}) of
 * {@code {text, finish_reason, prompt_tokens, completion_tokens, cached_tokens, error}} (plus
 * {@code logprobs} when the logprobs option is above 0) with exactly one output row per input
 * row, in input order (with {@code affinity} media or prefix: in the affinity order, see
 * {@link AffinityOrder}; with {@code balance=tokens} the rows are first priced and shuffled into
 * partitions of near-equal token cost, {@link TokenBalance}, and come out in those). Each task feeds
 * the executor's shared engine through an ordered look-ahead window of {@code lookAhead} rows.
 *
 * <p>A Spark ML {@link Transformer}: one typed Param per {@link GeneratorOptions} option (name,
 * doc and default from the option, so the Params, the typed setters, {@link #set(String, String)}
 * and mm_generate's options map cannot drift apart), saved and loaded with the default params
 * writer/reader, so a {@code Pipeline} holding it round-trips. Setting an option to null clears
 * it back to its default.
 *
 * <p>Decisions: null media = no media for that row; a null element inside a media array, a null
 * or empty prompt, an unreadable or undecodable item, or a path outside {@code allowedRoots} is
 * that row's error. Seeds are always derived per row from (seed, prompt, media), see
 * {@link GeneratorOptions#SEED}, so output does not depend on partitioning or retries.
 */
public final class MultimodalGenerator extends Transformer implements DefaultParamsWritable {

    private final String uid;
    /** In GeneratorOptions order, which explainParams keeps (Spark's own params() sorts by name). */
    private final Param<?>[] params;
    private final Map<String, Param<?>> byName = new LinkedHashMap<>();
    private transient GeneratorMetrics lastMetrics;

    public MultimodalGenerator() {
        this("mmGenerator_" + UUID.randomUUID().toString().substring(0, 12));
    }

    /** The constructor DefaultParamsReader and {@link #copy(ParamMap)} call. */
    public MultimodalGenerator(String uid) {
        this.uid = uid;
        List<Option<?>> options = GeneratorOptions.all();
        this.params = new Param<?>[options.size()];
        for (int i = 0; i < params.length; i++) {
            Option<?> o = options.get(i);
            params[i] = GeneratorParams.param(this, o);
            byName.put(o.name(), params[i]);
            // null defaults stay undefined: a Param cannot hold null, and "unset" already means none
            if (o.defaultValue() != null) {
                setDefault(raw(params[i]), GeneratorParams.toParam(o, o.defaultValue()));
            }
        }
    }

    public static MLReader<MultimodalGenerator> read() {
        return new DefaultParamsReader<>();
    }

    public static MultimodalGenerator load(String path) {
        return read().load(path);
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public Param<?>[] params() {
        return params.clone();
    }

    /** The Param of option {@code name}; an unknown name fails listing the known ones. */
    public Param<?> param(String name) {
        return byName.get(GeneratorOptions.byName(name).name());
    }

    /** The output schema, or an IllegalArgumentException naming the bad column/option and the expected types. */
    @Override
    public StructType transformSchema(StructType schema) {
        GeneratorSettings s = settings();
        new InputColumns(s, schema);
        tokenBalance().check(s, schema);
        return schema.add(s.outputCol(), GenerationSchema.result(s.withLogprobs(), s.parsedType()), false);
    }

    /** Validates on the driver, then generates lazily: nothing runs until an action. */
    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        Dataset<Row> df = dataset.toDF();
        StructType out = transformSchema(df.schema());
        GeneratorMetrics metrics = new GeneratorMetrics(df.sparkSession().sparkContext());
        lastMetrics = metrics;
        // the session's Hadoop configuration (spark.hadoop.* plus session settings), as Spark's file
        // sources ship it: executors read media paths with it, not with a bare new Configuration()
        var session = (org.apache.spark.sql.classic.SparkSession) df.sparkSession();
        var hadoopConf = SerializableConfiguration.broadcast(session.sparkContext(), session.sessionState().newHadoopConf());
        GeneratorSettings s = settings();
        TokenBalance balance = tokenBalance();
        if (balance.on() && s.affinity() != GeneratorOptions.Affinity.NONE) {
            // both decide which task a row goes to; one placement has to win, and the user should say which
            throw new IllegalArgumentException("sparkmm: balance=tokens and affinity="
                    + s.affinity().name().toLowerCase(java.util.Locale.ROOT) + " both place rows in partitions; set one of them");
        }
        Dataset<Row> placed = balance.on() ? balance.apply(df, s) : AffinityOrder.apply(df, s);
        return placed.mapPartitions(new PartitionGenerator(s, placed.schema(), metrics, hadoopConf, balance.on()),
                Encoders.row(out));
    }

    @Override
    public MultimodalGenerator copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public MultimodalGenerator copy() {
        return copy(ParamMap.empty());
    }

    /** The accumulators of the latest {@link #transform} (filled as its actions run). */
    public GeneratorMetrics lastMetrics() {
        return lastMetrics;
    }

    /** All options resolved and validated. */
    public GeneratorSettings settings() {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Option<?> o : GeneratorOptions.all()) {
            Param<?> p = byName.get(o.name());
            if (isDefined(p)) {
                values.put(o.name(), GeneratorParams.fromParam(o, getOrDefault(p)));
            }
        }
        return GeneratorSettings.from(values);
    }

    /** The balance options (token-aware partitions), validated. */
    private TokenBalance tokenBalance() {
        return new TokenBalance(get(BALANCE), get(BALANCE_PARTITIONS), get(WIDTH_COL), get(HEIGHT_COL),
                get(DURATION_COL));
    }

    /** Sets any option by name from its string form (the same names as mm_generate's options map). */
    public MultimodalGenerator set(String name, String value) {
        Option<?> o = GeneratorOptions.byName(name);
        return putValue(o, o.parse(value));
    }

    /** "name: doc (default: d, current: c)", with list values shown by content. */
    @Override
    public String explainParam(Param<?> param) {
        Option<?> o = GeneratorOptions.byName(param.name());
        StringBuilder sb = new StringBuilder(o.name()).append(": ").append(o.doc()).append(" (default: ")
                .append(o.defaultValue() == null ? "none" : GeneratorParams.show(GeneratorParams.toParam(o, o.defaultValue())));
        if (isSet(param)) {
            sb.append(", current: ").append(GeneratorParams.show(getOrDefault(param)));
        }
        return sb.append(")").toString();
    }

    private <T> MultimodalGenerator put(Option<T> o, T v) {
        return putValue(o, v);
    }

    private MultimodalGenerator putValue(Option<?> o, Object v) {
        Param<Object> p = raw(byName.get(o.name()));
        if (v == null) {
            clear(p);
        } else {
            set(p, GeneratorParams.toParam(o, v));
        }
        return this;
    }

    @SuppressWarnings("unchecked")
    private <T> T get(Option<T> o) {
        Param<?> p = byName.get(o.name());
        return isDefined(p) ? (T) GeneratorParams.fromParam(o, getOrDefault(p)) : null;
    }

    @SuppressWarnings("unchecked")
    private static Param<Object> raw(Param<?> p) {
        return (Param<Object>) p;
    }

    public MultimodalGenerator setModelPath(String v) { return put(MODEL_PATH, v); }
    public String getModelPath() { return get(MODEL_PATH); }
    public MultimodalGenerator setPromptCol(String v) { return put(PROMPT_COL, v); }
    public String getPromptCol() { return get(PROMPT_COL); }
    public MultimodalGenerator setPromptTemplate(String v) { return put(PROMPT_TEMPLATE, v); }
    public String getPromptTemplate() { return get(PROMPT_TEMPLATE); }
    public MultimodalGenerator setSystemPrompt(String v) { return put(SYSTEM_PROMPT, v); }
    public String getSystemPrompt() { return get(SYSTEM_PROMPT); }
    public MultimodalGenerator setChatTemplate(boolean v) { return put(CHAT_TEMPLATE, v); }
    public boolean getChatTemplate() { return get(CHAT_TEMPLATE); }
    public MultimodalGenerator setImageCol(String v) { return put(IMAGE_COL, v); }
    public String getImageCol() { return get(IMAGE_COL); }
    public MultimodalGenerator setAudioCol(String v) { return put(AUDIO_COL, v); }
    public String getAudioCol() { return get(AUDIO_COL); }
    public MultimodalGenerator setVideoCol(String v) { return put(VIDEO_COL, v); }
    public String getVideoCol() { return get(VIDEO_COL); }
    /** A JSON object, e.g. {@code {"min_pixels": 3136, "max_pixels": 200704}}; checked by {@link #settings()}. */
    public MultimodalGenerator setMmProcessorKwargs(String v) { return put(MM_PROCESSOR_KWARGS, v); }
    public String getMmProcessorKwargs() { return get(MM_PROCESSOR_KWARGS); }
    public MultimodalGenerator setMaxTokens(int v) { return put(MAX_TOKENS, v); }
    public int getMaxTokens() { return get(MAX_TOKENS); }
    public MultimodalGenerator setTemperature(double v) { return put(TEMPERATURE, v); }
    public double getTemperature() { return get(TEMPERATURE); }
    public MultimodalGenerator setTopP(double v) { return put(TOP_P, v); }
    public double getTopP() { return get(TOP_P); }
    public MultimodalGenerator setTopK(int v) { return put(TOP_K, v); }
    public int getTopK() { return get(TOP_K); }
    public MultimodalGenerator setMinP(double v) { return put(MIN_P, v); }
    public double getMinP() { return get(MIN_P); }
    public MultimodalGenerator setRepetitionPenalty(double v) { return put(REPETITION_PENALTY, v); }
    public double getRepetitionPenalty() { return get(REPETITION_PENALTY); }
    public MultimodalGenerator setPresencePenalty(double v) { return put(PRESENCE_PENALTY, v); }
    public double getPresencePenalty() { return get(PRESENCE_PENALTY); }
    public MultimodalGenerator setFrequencyPenalty(double v) { return put(FREQUENCY_PENALTY, v); }
    public double getFrequencyPenalty() { return get(FREQUENCY_PENALTY); }
    public MultimodalGenerator setMinTokens(int v) { return put(MIN_TOKENS, v); }
    public int getMinTokens() { return get(MIN_TOKENS); }
    public MultimodalGenerator setStopTokenIds(int... v) { return put(STOP_TOKEN_IDS, Arrays.stream(v).boxed().toList()); }
    public List<Integer> getStopTokenIds() { return get(STOP_TOKEN_IDS); }
    public MultimodalGenerator setIgnoreEos(boolean v) { return put(IGNORE_EOS, v); }
    public boolean getIgnoreEos() { return get(IGNORE_EOS); }
    public MultimodalGenerator setLogprobs(int v) { return put(LOGPROBS, v); }
    public int getLogprobs() { return get(LOGPROBS); }
    public MultimodalGenerator setSeed(long v) { return put(SEED, v); }
    public long getSeed() { return get(SEED); }
    /** vLLM's structured_outputs as JSON, e.g. {@code {"json": {...schema...}}}; checked when set. */
    public MultimodalGenerator setStructuredOutputs(String v) { return put(STRUCTURED_OUTPUTS, v == null ? null : STRUCTURED_OUTPUTS.parse(v)); }
    public String getStructuredOutputs() { return get(STRUCTURED_OUTPUTS); }
    /** A Spark DDL struct the response must fill, e.g. {@code "label STRING, confidence DOUBLE"}; adds the field {@code parsed}. */
    public MultimodalGenerator setResponseSchema(String v) { return putValue(RESPONSE_SCHEMA, v == null ? null : RESPONSE_SCHEMA.parse(v)); }
    public String getResponseSchema() { return get(RESPONSE_SCHEMA); }
    public MultimodalGenerator setResponseJsonSchema(String v) { return putValue(RESPONSE_JSON_SCHEMA, v == null ? null : RESPONSE_JSON_SCHEMA.parse(v)); }
    public String getResponseJsonSchema() { return get(RESPONSE_JSON_SCHEMA); }
    public MultimodalGenerator setResponseChoices(String... v) { return put(RESPONSE_CHOICES, List.of(v)); }
    public List<String> getResponseChoices() { return get(RESPONSE_CHOICES); }
    public MultimodalGenerator setResponseRegex(String v) { return put(RESPONSE_REGEX, v); }
    public String getResponseRegex() { return get(RESPONSE_REGEX); }
    public MultimodalGenerator setStop(String... v) { return put(STOP, List.of(v)); }
    public List<String> getStop() { return get(STOP); }
    public MultimodalGenerator setOutputCol(String v) { return put(OUTPUT_COL, v); }
    public String getOutputCol() { return get(OUTPUT_COL); }
    public MultimodalGenerator setMode(Mode v) { return put(MODE, v); }
    public MultimodalGenerator setMode(String v) { return set(MODE.name(), v); }
    public Mode getMode() { return get(MODE); }
    public MultimodalGenerator setKeyCol(String v) { return put(KEY_COL, v); }
    public String getKeyCol() { return get(KEY_COL); }
    public MultimodalGenerator setAffinity(Affinity v) { return put(AFFINITY, v); }
    /** none | media | prefix, any case. */
    public MultimodalGenerator setAffinity(String v) { return set(AFFINITY.name(), v); }
    public Affinity getAffinity() { return get(AFFINITY); }
    public MultimodalGenerator setPrefixWait(boolean v) { return put(PREFIX_WAIT, v); }
    public boolean getPrefixWait() { return get(PREFIX_WAIT); }
    public MultimodalGenerator setLookAhead(int v) { return put(LOOK_AHEAD, v); }
    public int getLookAhead() { return get(LOOK_AHEAD); }
    public MultimodalGenerator setKvCacheBytes(long v) { return put(KV_CACHE_BYTES, v); }
    public long getKvCacheBytes() { return get(KV_CACHE_BYTES); }
    public MultimodalGenerator setMaxBatchedTokens(int v) { return put(MAX_BATCHED_TOKENS, v); }
    public int getMaxBatchedTokens() { return get(MAX_BATCHED_TOKENS); }
    public MultimodalGenerator setKvCacheDtype(String v) { return put(KV_CACHE_DTYPE, v); }
    public String getKvCacheDtype() { return get(KV_CACHE_DTYPE); }
    public MultimodalGenerator setEncoderCacheRows(int v) { return put(ENCODER_CACHE_ROWS, v); }
    public int getEncoderCacheRows() { return get(ENCODER_CACHE_ROWS); }
    public MultimodalGenerator setMaxSeqs(int v) { return put(MAX_SEQS, v); }
    public int getMaxSeqs() { return get(MAX_SEQS); }
    public MultimodalGenerator setProcessorCacheBytes(long v) { return put(PROCESSOR_CACHE_BYTES, v); }
    public long getProcessorCacheBytes() { return get(PROCESSOR_CACHE_BYTES); }
    public MultimodalGenerator setAllowedRoots(String... v) { return put(ALLOWED_ROOTS, List.of(v)); }
    public List<String> getAllowedRoots() { return get(ALLOWED_ROOTS); }
    public MultimodalGenerator setDevice(String v) { return put(DEVICE, v); }
    /** An ONNX file to run as the media encoder instead of the checkpoint's tower (null: the checkpoint's own). */
    public MultimodalGenerator setEncoderOnnx(String v) { return put(ENCODER_ONNX, v); }
    public String getEncoderOnnx() { return get(ENCODER_ONNX); }
    public String getDevice() { return get(DEVICE); }
    public MultimodalGenerator setRowTimeoutSeconds(long v) { return put(ROW_TIMEOUT_SECONDS, v); }
    public long getRowTimeoutSeconds() { return get(ROW_TIMEOUT_SECONDS); }
    public MultimodalGenerator setBalance(String v) { return v == null ? put(BALANCE, null) : set(BALANCE.name(), v); }
    public String getBalance() { return get(BALANCE); }
    public MultimodalGenerator setBalancePartitions(int v) { return put(BALANCE_PARTITIONS, v); }
    public int getBalancePartitions() { return get(BALANCE_PARTITIONS); }
    public MultimodalGenerator setWidthCol(String v) { return put(WIDTH_COL, v); }
    public String getWidthCol() { return get(WIDTH_COL); }
    public MultimodalGenerator setDurationCol(String v) { return put(DURATION_COL, v); }
    public String getDurationCol() { return get(DURATION_COL); }
    public MultimodalGenerator setHeightCol(String v) { return put(HEIGHT_COL, v); }
    public String getHeightCol() { return get(HEIGHT_COL); }
}
