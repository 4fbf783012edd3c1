package io.sparkmm.processors.prompt;

import java.util.List;

/** A prompt after its placeholders were expanded: the token ids and, per item in order, its range. */
public record UpdatedPrompt(int[] tokenIds, List<PlaceholderRange> ranges) {

    public UpdatedPrompt {
        tokenIds = tokenIds.clone();
        ranges = List.copyOf(ranges);
    }
}
