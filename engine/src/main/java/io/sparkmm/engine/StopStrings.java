package io.sparkmm.engine;

import io.sparkmm.engine.tokenizer.HfTokenizer;

import java.util.ArrayList;
import java.util.List;

/** Placeholder until the incremental detokenizer lands: decodes the whole output each step. */
final class StopStrings {

    private final HfTokenizer tokenizer;
    private final List<String> stops;
    private final List<Integer> ids = new ArrayList<>();
    private String matched;
    private String truncated;

    StopStrings(HfTokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
    }

    boolean accept(int token, boolean active) {
        ids.add(token);
        if (!active) {
            return false;
        }
        String text = tokenizer.decode(ids.stream().mapToInt(Integer::intValue).toArray(), true);
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
                matched = s;
            }
        }
        if (best >= 0) {
            truncated = text.substring(0, best);
            return true;
        }
        return false;
    }

    String matched() {
        return matched;
    }

    String truncatedText() {
        return truncated;
    }
}
