package io.sparkmm.processors.prompt;

import java.util.Arrays;

/**
 * Where one media item sits in the prompt: positions [offset, offset + length), and which of them
 * take a row of the item's encoder output (vLLM's {@code is_embed}). A replacement may mix plain
 * tokens into the run (a start and an end token, a newline token after each row of patches):
 * those keep their text embeddings, and the encoder rows go to the masked positions in order.
 *
 * @param isEmbed per position of the range, whether it takes an encoder row; null means all do
 */
public record PlaceholderRange(int offset, int length, boolean[] isEmbed) {

    public PlaceholderRange {
        if (offset < 0 || length < 1) {
            throw new IllegalArgumentException("placeholder range needs offset >= 0 and length >= 1, got "
                    + offset + ", " + length);
        }
        if (isEmbed != null) {
            if (isEmbed.length != length) {
                throw new IllegalArgumentException("placeholder range of " + length + " positions has an is-embed mask of "
                        + isEmbed.length);
            }
            int n = 0;
            for (boolean b : isEmbed) {
                n += b ? 1 : 0;
            }
            if (n == 0) {
                throw new IllegalArgumentException("placeholder range at " + offset + " has no embedding position");
            }
            isEmbed = n == length ? null : isEmbed.clone();
        }
    }

    /** A range whose every position takes an encoder row. */
    public PlaceholderRange(int offset, int length) {
        this(offset, length, null);
    }

    public int end() {
        return offset + length;
    }

    /** Whether position {@code offset + i} takes an encoder row. */
    public boolean isEmbed(int i) {
        return isEmbed == null || isEmbed[i];
    }

    /** Positions that take encoder rows = rows the encoder must produce. */
    public int numEmbeddings() {
        if (isEmbed == null) {
            return length;
        }
        int n = 0;
        for (boolean b : isEmbed) {
            n += b ? 1 : 0;
        }
        return n;
    }

    /** Encoder rows consumed by the positions before {@code offset + i}: the row position i takes, if it takes one. */
    public int embeddingsBefore(int i) {
        if (isEmbed == null) {
            return i;
        }
        int n = 0;
        for (int j = 0; j < i; j++) {
            n += isEmbed[j] ? 1 : 0;
        }
        return n;
    }

    @Override
    public boolean[] isEmbed() {
        return isEmbed == null ? null : isEmbed.clone();
    }

    /** The same range moved to another offset. */
    public PlaceholderRange at(int newOffset) {
        return new PlaceholderRange(newOffset, length, isEmbed);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PlaceholderRange r && r.offset == offset && r.length == length
                && Arrays.equals(r.isEmbed, isEmbed);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * offset + length) + Arrays.hashCode(isEmbed);
    }

    @Override
    public String toString() {
        return "PlaceholderRange[" + offset + "+" + length + (isEmbed == null ? "" : ", " + numEmbeddings() + " embedded") + "]";
    }
}
