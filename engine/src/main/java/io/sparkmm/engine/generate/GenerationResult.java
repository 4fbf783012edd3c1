package io.sparkmm.engine.generate;

import io.sparkmm.engine.sampling.TokenLogprob;

import java.util.List;

/**
 * What one request produced.
 *
 * @param tokenIds the generated ids, including the stop token when one ended generation
 * @param finishReason why it ended
 * @param logprobs per generated token, the top-K log-probabilities (empty lists when not asked)
 */
public record GenerationResult(int[] tokenIds, FinishReason finishReason, List<List<TokenLogprob>> logprobs) {

    public GenerationResult {
        tokenIds = tokenIds.clone();
        logprobs = List.copyOf(logprobs);
    }

    /** The ids that make up the text: without a final stop token. */
    public int[] textTokenIds() {
        if (finishReason == FinishReason.STOP && tokenIds.length > 0) {
            return java.util.Arrays.copyOf(tokenIds, tokenIds.length - 1);
        }
        return tokenIds.clone();
    }
}
