package io.sparkmm.connector.generate;

import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.structured.StructuredOutputs;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

import static io.sparkmm.connector.generate.GeneratorOptions.*;

/**
 * The sampling options of one transform (vLLM's SamplingParams under the connector's camelCase
 * names), shipped to the executors. Its own record because SamplingParams is not Serializable and
 * carries a per-row seed, while these hold the base seed every row's seed is derived from.
 */
public record SamplingOptions(int maxTokens, double temperature, double topP, int topK, double minP,
                              double repetitionPenalty, double presencePenalty, double frequencyPenalty,
                              long seed, int minTokens, List<String> stop, List<Integer> stopTokenIds,
                              boolean ignoreEos, int logprobs, String structuredOutputs) implements Serializable {

    public SamplingOptions {
        stop = List.copyOf(stop);
        stopTokenIds = List.copyOf(stopTokenIds);
        // builds once so a bad value fails on the driver, naming the field, before any task starts
        params(maxTokens, temperature, topP, topK, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                0L, minTokens, stop, stopTokenIds, ignoreEos, logprobs, structuredOutputs);
    }

    /** Reads the sampling options from {@code values} (typed values keyed by option name), defaults for the rest. */
    static SamplingOptions from(Map<String, Object> values) {
        return new SamplingOptions(GeneratorSettings.get(values, MAX_TOKENS), GeneratorSettings.get(values, TEMPERATURE),
                GeneratorSettings.get(values, TOP_P), GeneratorSettings.get(values, TOP_K),
                GeneratorSettings.get(values, MIN_P), GeneratorSettings.get(values, REPETITION_PENALTY),
                GeneratorSettings.get(values, PRESENCE_PENALTY), GeneratorSettings.get(values, FREQUENCY_PENALTY),
                GeneratorSettings.get(values, SEED), GeneratorSettings.get(values, MIN_TOKENS),
                GeneratorSettings.get(values, STOP), GeneratorSettings.get(values, STOP_TOKEN_IDS),
                GeneratorSettings.get(values, IGNORE_EOS), GeneratorSettings.get(values, LOGPROBS),
                ResponseFormat.structuredOutputs(values));
    }

    /** The engine's parameters for one row, with that row's derived seed. */
    public SamplingParams params(long rowSeed) {
        return params(maxTokens, temperature, topP, topK, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                rowSeed, minTokens, stop, stopTokenIds, ignoreEos, logprobs, structuredOutputs);
    }

    // static and fed the parameters: a compact constructor has not assigned the fields yet
    private static SamplingParams params(int maxTokens, double temperature, double topP, int topK, double minP,
                                         double repetitionPenalty, double presencePenalty, double frequencyPenalty,
                                         long rowSeed, int minTokens, List<String> stop, List<Integer> stopTokenIds,
                                         boolean ignoreEos, int logprobs, String structuredOutputs) {
        try {
            return new SamplingParams(temperature, topP, topK, minP, repetitionPenalty, presencePenalty,
                    frequencyPenalty, rowSeed, maxTokens, minTokens, stopTokenIds, stop, ignoreEos, logprobs,
                    structuredOutputs == null ? null : StructuredOutputs.parseVllm(structuredOutputs));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sparkmm: bad sampling option: " + e.getMessage(), e);
        }
    }
}
