package io.sparkmm.connector.generate;

import io.sparkmm.connector.engine.EngineKey;
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
                                String mmProcessorKwargs, int maxTokens, double temperature, double topP, int topK, long seed,
                                List<String> stop, String outputCol, Mode mode, String keyCol, int lookAhead,
                                long processorCacheBytes, List<String> allowedRoots, long rowTimeoutSeconds)
        implements Serializable {

    public GeneratorSettings {
        stop = List.copyOf(stop);
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
        // validates maxTokens, temperature, topP, topK, stop on the driver, naming the field
        // (a compact constructor has not assigned the fields yet: pass the parameters)
        sampling(maxTokens, temperature, topP, topK, stop, 0L);
    }

    /** Reads every option from {@code values} (typed values keyed by option name), defaults for the rest. */
    public static GeneratorSettings from(Map<String, Object> values) {
        EngineKey key = new EngineKey(get(values, MODEL_PATH), get(values, MAX_BATCHED_TOKENS), get(values, MAX_SEQS),
                get(values, KV_CACHE_BYTES), get(values, DEVICE), get(values, KV_CACHE_DTYPE),
                get(values, ENCODER_CACHE_ROWS));
        return new GeneratorSettings(key, get(values, PROMPT_COL), get(values, PROMPT_TEMPLATE),
                get(values, SYSTEM_PROMPT), get(values, CHAT_TEMPLATE), get(values, IMAGE_COL), get(values, AUDIO_COL),
                get(values, VIDEO_COL), get(values, MM_PROCESSOR_KWARGS), get(values, MAX_TOKENS), get(values, TEMPERATURE), get(values, TOP_P),
                get(values, TOP_K), get(values, SEED), get(values, STOP), get(values, OUTPUT_COL), get(values, MODE),
                get(values, KEY_COL), get(values, LOOK_AHEAD), get(values, PROCESSOR_CACHE_BYTES),
                get(values, ALLOWED_ROOTS), get(values, ROW_TIMEOUT_SECONDS));
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
        return sampling(maxTokens, temperature, topP, topK, stop, rowSeed);
    }

    private static SamplingParams sampling(int maxTokens, double temperature, double topP, int topK, List<String> stop,
                                           long rowSeed) {
        try {
            return SamplingParams.builder().maxTokens(maxTokens).temperature(temperature).topP(topP).topK(topK)
                    .stop(stop).seed(rowSeed).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sparkmm: bad sampling option: " + e.getMessage(), e);
        }
    }
}
