package io.sparkmm.connector.generate;

import io.sparkmm.connector.engine.EngineKey;
import io.sparkmm.connector.generate.GeneratorOptions.Affinity;
import io.sparkmm.connector.generate.GeneratorOptions.Mode;
import io.sparkmm.engine.multimodal.ProcessorKwargsJson;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.engine.sampling.SamplingParams;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.sparkmm.connector.generate.GeneratorOptions.*;

/**
 * The resolved, validated options of one transform, shipped to the executors in the task
 * closure. Immutable; built on the driver, so a bad value fails before any task starts.
 */
public record GeneratorSettings(EngineKey engineKey, String promptCol, String promptTemplate, String systemPrompt,
                                boolean chatTemplate, String imageCol, String audioCol, String videoCol,
                                String mmProcessorKwargs, SamplingOptions samplingOptions, String outputCol, Mode mode, String keyCol, int lookAhead,
                                long processorCacheBytes, List<String> allowedRoots, long rowTimeoutSeconds,
                                Affinity affinity, String responseSchema)
        implements Serializable {

    public GeneratorSettings {
        allowedRoots = List.copyOf(allowedRoots);
        if (lookAhead < 1) {
            throw new IllegalArgumentException("sparkmm: option 'lookAhead' must be >= 1, got " + lookAhead);
        }
        if (processorCacheBytes < 0) {
            throw new IllegalArgumentException("sparkmm: option 'processorCacheBytes' must be >= 0, got "
                    + processorCacheBytes);
        }
        if (rowTimeoutSeconds < 0) {
            throw new IllegalArgumentException("sparkmm: option 'rowTimeoutSeconds' must be >= 0 (0 = no limit), got "
                    + rowTimeoutSeconds);
        }
        // the typed setter takes any string: check it here, on the driver, like set(name, value) does
        try {
            mmProcessorKwargs = mmProcessorKwargs == null ? null : GeneratorOptions.processorKwargs(mmProcessorKwargs.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sparkmm: option 'mmProcessorKwargs' has a bad value '" + mmProcessorKwargs
                    + "': " + e.getMessage(), e);
        }
        if (outputCol == null) {
            throw new IllegalArgumentException("sparkmm: option 'outputCol' must be set");
        }
        java.util.Objects.requireNonNull(samplingOptions, "samplingOptions");
        affinity = affinity == null ? Affinity.NONE : affinity;
    }

    /** Reads every option from {@code values} (typed values keyed by option name), defaults for the rest. */
    public static GeneratorSettings from(Map<String, Object> values) {
        EngineKey key = new EngineKey(get(values, MODEL_PATH), get(values, MAX_BATCHED_TOKENS), get(values, MAX_SEQS),
                get(values, KV_CACHE_BYTES), get(values, DEVICE), get(values, KV_CACHE_DTYPE),
                get(values, ENCODER_CACHE_ROWS), get(values, PREFIX_WAIT), get(values, ENCODER_ONNX));
        return new GeneratorSettings(key, get(values, PROMPT_COL), get(values, PROMPT_TEMPLATE),
                get(values, SYSTEM_PROMPT), get(values, CHAT_TEMPLATE), get(values, IMAGE_COL), get(values, AUDIO_COL),
                get(values, VIDEO_COL), get(values, MM_PROCESSOR_KWARGS), SamplingOptions.from(values), get(values, OUTPUT_COL), get(values, MODE),
                get(values, KEY_COL), get(values, LOOK_AHEAD), get(values, PROCESSOR_CACHE_BYTES),
                get(values, ALLOWED_ROOTS), get(values, ROW_TIMEOUT_SECONDS), get(values, AFFINITY),
                get(values, RESPONSE_SCHEMA));
    }

    /** The media processor's settings of every row; none when the option is unset. */
    public ProcessorKwargs processorKwargs() {
        return ProcessorKwargsJson.parse(mmProcessorKwargs);
    }

    /** The per-row wait limit; zero = none. */
    public Duration rowTimeout() {
        return Duration.ofSeconds(rowTimeoutSeconds);
    }

    @SuppressWarnings("unchecked")
    static <T> T get(Map<String, Object> values, Option<T> o) {
        return values.containsKey(o.name()) ? (T) values.get(o.name()) : o.defaultValue();
    }

    /** The sampling parameters of one row, with its derived seed. */
    public SamplingParams sampling(long rowSeed) {
        return samplingOptions.params(rowSeed);
    }

    /** The type of the output struct's {@code parsed} field (the responseSchema), or null when there is none. */
    public org.apache.spark.sql.types.StructType parsedType() {
        return responseSchema == null ? null : ResponseFormat.parsedType(responseSchema);
    }

    /** Whether the output struct carries the logprobs field. */
    public boolean withLogprobs() {
        return samplingOptions.logprobs() > 0;
    }
}
