package io.sparkmm.processors.prompt;

import java.util.Arrays;

/**
 * What one placeholder becomes for one item: a token sequence, and which of its positions take
 * encoder rows (vLLM's {@code PromptUpdateDetails}). LLaVA: N copies of the image token, all
 * embedded. A family with start/end or per-row newline tokens marks only the feature positions.
 *
 * @param tokens the replacement sequence
 * @param isEmbed per token, whether it takes an encoder row (at least one must)
 */
public record ItemReplacement(int[] tokens, boolean[] isEmbed) {

    public ItemReplacement {
        if (tokens.length == 0 || tokens.length != isEmbed.length) {
            throw new IllegalArgumentException("a replacement needs tokens and an is-embed flag per token, got "
                    + tokens.length + " and " + isEmbed.length);
        }
        tokens = tokens.clone();
        isEmbed = isEmbed.clone();
    }

    /** {@code count} copies of {@code token}, every one embedded. */
    public static ItemReplacement repeat(int token, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("placeholder count must be >= 1, got " + count);
        }
        int[] t = new int[count];
        Arrays.fill(t, token);
        boolean[] e = new boolean[count];
        Arrays.fill(e, true);
        return new ItemReplacement(t, e);
    }

    /**
     * A replacement whose embedded positions are the copies of {@code featureToken}: e.g. a start
     * token, N feature tokens, an end token.
     */
    public static ItemReplacement selectingToken(int[] tokens, int featureToken) {
        boolean[] e = new boolean[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            e[i] = tokens[i] == featureToken;
        }
        return new ItemReplacement(tokens, e);
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    @Override
    public boolean[] isEmbed() {
        return isEmbed.clone();
    }

    public int length() {
        return tokens.length;
    }

    int token(int i) {
        return tokens[i];
    }

    PlaceholderRange rangeAt(int offset) {
        return new PlaceholderRange(offset, tokens.length, isEmbed);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ItemReplacement r && Arrays.equals(r.tokens, tokens) && Arrays.equals(r.isEmbed, isEmbed);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(tokens) + Arrays.hashCode(isEmbed);
    }
}
