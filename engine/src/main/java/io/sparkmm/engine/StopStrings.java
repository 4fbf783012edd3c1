package io.sparkmm.engine;

import io.sparkmm.engine.detokenize.IncrementalDetokenizer;
import io.sparkmm.engine.detokenize.StopChecker;
import io.sparkmm.engine.tokenizer.HfTokenizer;

import java.util.List;
import java.util.Optional;

/**
 * A request's stop strings, checked on its incrementally detokenized text: each generated token
 * adds only its text delta, and only the tail that can hold a new match is scanned.
 */
final class StopStrings {

    private final IncrementalDetokenizer detokenizer;
    private final StopChecker checker;
    private StopChecker.Match match;

    StopStrings(HfTokenizer tokenizer, int[] promptIds, List<String> stops) {
        this.detokenizer = IncrementalDetokenizer.withPrompt(tokenizer, promptIds);
        this.checker = new StopChecker(stops);
    }

    /**
     * Feeds one generated token; returns true when a stop string now appears. Before
     * min_tokens ({@code active} false) text is collected but not checked, as vLLM does.
     */
    boolean accept(int token, boolean active) {
        String delta = detokenizer.accept(token);
        if (!active) {
            checker.appendUnchecked(delta);
            return false;
        }
        Optional<StopChecker.Match> m = checker.append(delta);
        m.ifPresent(x -> match = x);
        return m.isPresent();
    }

    String matched() {
        return match == null ? null : match.stop();
    }

    String truncatedText() {
        return match == null ? null : match.text();
    }
}
