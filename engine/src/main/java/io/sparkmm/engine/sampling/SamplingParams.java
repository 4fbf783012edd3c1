package io.sparkmm.engine.sampling;

import io.sparkmm.engine.structured.StructuredOutputs;

import java.util.List;

/**
 * How one request picks its tokens, with vLLM's names and defaults. Validated at construction,
 * so a bad value fails that request only, with a message naming the field and the value.
 *
 * @param temperature 0 means greedy; otherwise logits are divided by it
 * @param topP keep the smallest set of most likely tokens whose probability reaches topP (1 = off)
 * @param topK keep the K most likely tokens (0 = off)
 * @param minP drop tokens whose probability is below minP times the most likely one's (0 = off)
 * @param repetitionPenalty > 1 discourages tokens already in the prompt or output (1 = off)
 * @param presencePenalty subtracted from the logit of every token already generated (0 = off)
 * @param frequencyPenalty subtracted once per earlier occurrence in the output (0 = off)
 * @param seed the request's seed; null draws one at random (then runs are not reproducible)
 * @param maxTokens the most tokens to generate
 * @param minTokens no stop (EOS, stop ids, stop strings) takes effect before this many tokens
 * @param stopTokenIds extra token ids that end generation (the model's EOS ids are added by the engine)
 * @param stop strings that end generation when they appear in the text; they are cut from it
 * @param ignoreEos keep generating past EOS (stop token ids and strings still stop)
 * @param logprobs how many top log-probabilities to return per generated token (0 = none)
 * @param structuredOutputs what the output must match (vLLM's structured_outputs), or null for free text
 */
public record SamplingParams(double temperature, double topP, int topK, double minP,
                             double repetitionPenalty, double presencePenalty, double frequencyPenalty,
                             Long seed, int maxTokens, int minTokens, List<Integer> stopTokenIds,
                             List<String> stop, boolean ignoreEos, int logprobs, StructuredOutputs structuredOutputs) {

    /** The largest {@code logprobs} a request may ask for. */
    public static final int MAX_LOGPROBS = 20;

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 = off), got " + topK);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min_p must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be a finite number > 0, got " + repetitionPenalty);
        }
        if (!(presencePenalty >= -2 && presencePenalty <= 2)) {
            throw new IllegalArgumentException("presence_penalty must be in [-2, 2], got " + presencePenalty);
        }
        if (!(frequencyPenalty >= -2 && frequencyPenalty <= 2)) {
            throw new IllegalArgumentException("frequency_penalty must be in [-2, 2], got " + frequencyPenalty);
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + maxTokens);
        }
        if (minTokens < 0 || minTokens > maxTokens) {
            throw new IllegalArgumentException("min_tokens must be in [0, max_tokens=" + maxTokens + "], got " + minTokens);
        }
        if (logprobs < 0 || logprobs > MAX_LOGPROBS) {
            throw new IllegalArgumentException("logprobs must be in [0, " + MAX_LOGPROBS + "], got " + logprobs);
        }
        stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public static SamplingParams greedy(int maxTokens) {
        return builder().temperature(0).maxTokens(maxTokens).build();
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public boolean hasPenalties() {
        return repetitionPenalty != 1 || presencePenalty != 0 || frequencyPenalty != 0;
    }

    public Builder toBuilder() {
        return new Builder().temperature(temperature).topP(topP).topK(topK).minP(minP)
                .repetitionPenalty(repetitionPenalty).presencePenalty(presencePenalty).frequencyPenalty(frequencyPenalty)
                .seed(seed).maxTokens(maxTokens).minTokens(minTokens).stopTokenIds(stopTokenIds).stop(stop)
                .ignoreEos(ignoreEos).logprobs(logprobs).structuredOutputs(structuredOutputs);
    }

    public SamplingParams withSeed(long newSeed) {
        return toBuilder().seed(newSeed).build();
    }

    /** vLLM's defaults: temperature 1, no truncation, no penalties, 16 tokens. */
    public static final class Builder {
        private double temperature = 1;
        private double topP = 1;
        private int topK;
        private double minP;
        private double repetitionPenalty = 1;
        private double presencePenalty;
        private double frequencyPenalty;
        private Long seed;
        private int maxTokens = 16;
        private int minTokens;
        private List<Integer> stopTokenIds = List.of();
        private List<String> stop = List.of();
        private boolean ignoreEos;
        private int logprobs;
        private StructuredOutputs structuredOutputs;

        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder minP(double v) { minP = v; return this; }
        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
        public Builder presencePenalty(double v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder minTokens(int v) { minTokens = v; return this; }
        public Builder stopTokenIds(List<Integer> v) { stopTokenIds = v; return this; }
        public Builder stop(List<String> v) { stop = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        public Builder logprobs(int v) { logprobs = v; return this; }
        public Builder structuredOutputs(StructuredOutputs v) { structuredOutputs = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topP, topK, minP, repetitionPenalty, presencePenalty,
                    frequencyPenalty, seed, maxTokens, minTokens, stopTokenIds, stop, ignoreEos, logprobs, structuredOutputs);
        }
    }
}
