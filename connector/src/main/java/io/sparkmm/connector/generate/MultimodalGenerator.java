package io.sparkmm.connector.generate;

import io.sparkmm.connector.generate.GeneratorOptions.Mode;
import io.sparkmm.connector.generate.GeneratorOptions.Option;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.sparkmm.connector.generate.GeneratorOptions.*;

/**
 * DataFrame in, DataFrame out: adds a struct column (default {@code generation}) of
 * {@code {text, finish_reason, prompt_tokens, completion_tokens, cached_tokens, error}} with
 * exactly one output row per input row, in input order. Each task feeds the executor's shared
 * engine through an ordered look-ahead window of {@code lookAhead} rows.
 *
 * <p>Shaped like Spark ML's {@code Transformer} ({@code uid}, {@code transform},
 * {@code transformSchema}, typed setters and getters with defaults) but not a subclass:
 * spark-mllib 4.2.0 is not published to the repository this build uses, and a Transformer
 * compiled against another mllib version would tie us to it. Options are declared once in
 * {@link GeneratorOptions}; {@link #set(String, String)} takes any of them by name.
 *
 * <p>Decisions: null media = no media for that row; a null element inside a media array, a null
 * or empty prompt, an unreadable or undecodable item, or a path outside {@code allowedRoots} is
 * that row's error. Seeds are always derived per row from (seed, prompt, media), see
 * {@link GeneratorOptions#SEED}, so output does not depend on partitioning or retries.
 */
public final class MultimodalGenerator implements Serializable {

    private final String uid;
    private final Map<String, Object> values = new LinkedHashMap<>();
    private transient GeneratorMetrics lastMetrics;

    public MultimodalGenerator() {
        this("mmGenerator_" + UUID.randomUUID().toString().substring(0, 12));
    }

    public MultimodalGenerator(String uid) {
        this.uid = uid;
    }

    public String uid() {
        return uid;
    }

    /** The output schema, or an IllegalArgumentException naming the bad column/option and the expected types. */
    public StructType transformSchema(StructType schema) {
        GeneratorSettings s = settings();
        new InputColumns(s, schema);
        return schema.add(s.outputCol(), GenerationSchema.RESULT, false);
    }

    /** Validates on the driver, then generates lazily: nothing runs until an action. */
    public Dataset<Row> transform(Dataset<?> dataset) {
        Dataset<Row> df = dataset.toDF();
        StructType out = transformSchema(df.schema());
        GeneratorMetrics metrics = new GeneratorMetrics(df.sparkSession().sparkContext());
        lastMetrics = metrics;
        return df.mapPartitions(new PartitionGenerator(settings(), df.schema(), metrics), Encoders.row(out));
    }

    /** The accumulators of the latest {@link #transform} (filled as its actions run). */
    public GeneratorMetrics lastMetrics() {
        return lastMetrics;
    }

    /** All options resolved and validated. */
    public GeneratorSettings settings() {
        return GeneratorSettings.from(values);
    }

    /** Sets any option by name from its string form (the same names as mm_generate's options map). */
    public MultimodalGenerator set(String name, String value) {
        Option<?> o = GeneratorOptions.byName(name);
        values.put(o.name(), o.parse(value));
        return this;
    }

    public MultimodalGenerator copy() {
        MultimodalGenerator g = new MultimodalGenerator(uid);
        g.values.putAll(values);
        return g;
    }

    /** Every option with its current value, default and doc (like ML's explainParams). */
    public String explainParams() {
        StringBuilder sb = new StringBuilder();
        for (Option<?> o : GeneratorOptions.all()) {
            sb.append(o.name()).append(": ").append(o.doc()).append(" (default: ").append(o.defaultValue());
            if (values.containsKey(o.name())) {
                sb.append(", current: ").append(values.get(o.name()));
            }
            sb.append(")\n");
        }
        return sb.toString();
    }

    private <T> MultimodalGenerator put(Option<T> o, T v) {
        values.put(o.name(), v);
        return this;
    }

    private <T> T get(Option<T> o) {
        return GeneratorSettings.get(values, o);
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
    public MultimodalGenerator setSeed(long v) { return put(SEED, v); }
    public long getSeed() { return get(SEED); }
    public MultimodalGenerator setStop(String... v) { return put(STOP, List.of(v)); }
    public List<String> getStop() { return get(STOP); }
    public MultimodalGenerator setOutputCol(String v) { return put(OUTPUT_COL, v); }
    public String getOutputCol() { return get(OUTPUT_COL); }
    public MultimodalGenerator setMode(Mode v) { return put(MODE, v); }
    public MultimodalGenerator setMode(String v) { return set(MODE.name(), v); }
    public Mode getMode() { return get(MODE); }
    public MultimodalGenerator setKeyCol(String v) { return put(KEY_COL, v); }
    public String getKeyCol() { return get(KEY_COL); }
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
    public String getDevice() { return get(DEVICE); }
    public MultimodalGenerator setRowTimeoutSeconds(long v) { return put(ROW_TIMEOUT_SECONDS, v); }
    public long getRowTimeoutSeconds() { return get(ROW_TIMEOUT_SECONDS); }
}
