package io.sparkmm.engine;

import io.sparkmm.engine.generate.FinishReason;
import io.sparkmm.engine.sampling.TokenLogprob;

import java.util.List;

/**
 * What one request produced. A failed request has {@code error} set, a null finish reason and
 * no tokens; the engine goes on serving the others.
 *
 * @param tokenIds generated ids, including the stop token when one ended generation
 * @param text the decoded text (stop token and any matched stop string cut off); null without a tokenizer
 * @param finishReason why it ended; null when it failed
 * @param stopReason the stop string that matched, or null
 * @param cachedTokens prompt tokens whose KV came from the prefix cache
 * @param logprobs per generated token the top-K log-probabilities (empty when not asked)
 * @param error what went wrong, or null
 */
public record EngineResult(String requestId, int[] tokenIds, String text, FinishReason finishReason, String stopReason,
                           int promptTokens, int completionTokens, int cachedTokens,
                           List<List<TokenLogprob>> logprobs, String error) {

    public EngineResult {
        tokenIds = tokenIds.clone();
        logprobs = List.copyOf(logprobs);
    }

    public static EngineResult failed(String requestId, int promptTokens, String error) {
        return new EngineResult(requestId, new int[0], null, null, null, promptTokens, 0, 0, List.of(), error);
    }

    public boolean ok() {
        return error == null;
    }
}
