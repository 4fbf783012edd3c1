package io.sparkmm.processors.prompt;

/**
 * Where one media item sits in the prompt: positions [offset, offset + length). Every position
 * of the range receives one row of the item's encoder output, in order (the LLaVA family); a
 * family whose replacement mixes in plain text tokens would add an embedding mask here.
 */
public record PlaceholderRange(int offset, int length) {

    public PlaceholderRange {
        if (offset < 0 || length < 1) {
            throw new IllegalArgumentException("placeholder range needs offset >= 0 and length >= 1, got "
                    + offset + ", " + length);
        }
    }

    public int end() {
        return offset + length;
    }
}
