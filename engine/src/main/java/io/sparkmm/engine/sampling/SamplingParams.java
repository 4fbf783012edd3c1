package io.sparkmm.engine.sampling;

import java.util.List;

/**
 * How one request picks its tokens. Validated at construction, so a bad value fails that
 * request with a message naming the field and the value.
 *
 * @param temperature 0 means greedy; otherwise logits are divided by it
 * @param topP keep the smallest set of most likely tokens whose probability reaches topP (1 = off)
 * @param topK keep the K most likely tokens (0 = off)
 * @param seed the request's seed; null draws one at random (then runs are not reproducible)
 * @param maxTokens the most tokens to generate
 * @param stopTokenIds extra token ids that end generation (the model's EOS ids are added by the caller)
 * @param ignoreEos keep generating past EOS (stop token ids given here still stop)
 * @param logprobs how many top log-probabilities to return per generated token (0 = none)
 */
public record SamplingParams(double temperature, double topP, int topK, Long seed, int maxTokens,
                             List<Integer> stopTokenIds, boolean ignoreEos, int logprobs) {

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
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + maxTokens);
        }
        if (logprobs < 0 || logprobs > MAX_LOGPROBS) {
            throw new IllegalArgumentException("logprobs must be in [0, " + MAX_LOGPROBS + "], got " + logprobs);
        }
        stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 1, 0, null, maxTokens, List.of(), false, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withSeed(long newSeed) {
        return new SamplingParams(temperature, topP, topK, newSeed, maxTokens, stopTokenIds, ignoreEos, logprobs);
    }
}
