package io.sparkmm.engine.detokenize;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Watches one request's text for its stop strings. The engine appends each text delta from the
 * {@link IncrementalDetokenizer}; once a stop string appears, the request ends and its text is
 * cut just before the stop string (vLLM's default include_stop_str_in_output=false).
 *
 * <p>Each append scans only the tail where a new match can be: a match must end in the new
 * delta (anything earlier was already scanned), so for a stop string of length n the scan starts
 * n - 1 characters before the delta. Matches that cross from old text into the delta are found;
 * nothing before that tail is looked at again.
 *
 * <p>When several stop strings match, the one that starts first in the text wins, because that
 * is where the text would have ended had the model been stopped in time; at equal starts the
 * one listed first wins. (vLLM instead takes the first stop string in list order that matches
 * anywhere in the tail.) One instance per request; not thread-safe.
 */
public final class StopChecker {

    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private Match match;

    /**
     * A stop string and where it starts.
     *
     * @param stop the stop string that matched
     * @param index where it starts in the accumulated text
     * @param text the accumulated text cut before the stop string: the request's final text
     */
    public record Match(String stop, int index, String text) {
    }

    /** @param stops the request's stop strings, none empty (SamplingParams guarantees that) */
    public StopChecker(List<String> stops) {
        this.stops = List.copyOf(stops);
        for (String s : this.stops) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /**
     * Appends {@code delta} and reports the stop string that now appears, if any. After a match
     * the checker is done: later calls return the same match and ignore their delta.
     */
    public Optional<Match> append(String delta) {
        Objects.requireNonNull(delta, "delta");
        if (match != null) {
            return Optional.of(match);
        }
        int before = text.length();
        text.append(delta);
        if (delta.isEmpty()) {
            return Optional.empty();
        }
        int bestIndex = -1;
        String best = null;
        for (String stop : stops) {
            int from = Math.max(0, before - stop.length() + 1);
            int at = text.indexOf(stop, from);
            if (at >= 0 && (bestIndex < 0 || at < bestIndex)) {
                bestIndex = at;
                best = stop;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        match = new Match(best, bestIndex, text.substring(0, bestIndex));
        return Optional.of(match);
    }

    /**
     * Appends text that must not stop the request, such as the text of tokens generated before
     * min_tokens (vLLM does not check stop strings then). Those characters are never scanned again,
     * so a stop string inside them never matches later; one that starts in them and ends in a later
     * delta does.
     */
    public void appendUnchecked(String delta) {
        Objects.requireNonNull(delta, "delta");
        if (match == null) {
            text.append(delta);
        }
    }

    /** The match, once a stop string has appeared. */
    public Optional<Match> match() {
        return Optional.ofNullable(match);
    }

    /** The text appended so far, up to and including the delta that matched, if any. */
    public String text() {
        return text.toString();
    }

    /**
     * How much of the text can no longer become part of a stop string: all of it but the last
     * (longest stop - 1) characters, or the cut text once matched. A streaming caller that emits
     * only this much never has to take back text (vLLM's output_text_buffer_length).
     */
    public int stableLength() {
        if (match != null) {
            return match.index();
        }
        int longest = 0;
        for (String s : stops) {
            longest = Math.max(longest, s.length());
        }
        return Math.max(0, text.length() - Math.max(0, longest - 1));
    }
}
