package io.sparkmm.engine.sampling;

import java.util.Objects;

/**
 * The tokens one request has seen so far: its prompt and the tokens it has generated, which the
 * {@link Sampler} needs for penalties and for min_tokens.
 *
 * <p>A read-only view, not a copy: the engine keeps each request's ids in growing arrays and
 * wraps them here once per step at no cost. Only the first {@code promptLength} and
 * {@code outputLength} entries are read; the caller must not change those while a sampling call
 * that uses this view is running (appending past the lengths is fine).
 */
public final class TokenHistory {

    private static final int[] NONE = new int[0];

    /** No prompt, nothing generated. */
    public static final TokenHistory EMPTY = new TokenHistory(NONE, 0, NONE, 0);

    final int[] prompt;
    final int promptLength;
    final int[] output;
    final int outputLength;

    private TokenHistory(int[] prompt, int promptLength, int[] output, int outputLength) {
        this.prompt = prompt;
        this.promptLength = promptLength;
        this.output = output;
        this.outputLength = outputLength;
    }

    /** A view of {@code prompt[0, promptLength)} and {@code output[0, outputLength)}. */
    public static TokenHistory of(int[] prompt, int promptLength, int[] output, int outputLength) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(output, "output");
        if (promptLength < 0 || promptLength > prompt.length) {
            throw new IllegalArgumentException("promptLength " + promptLength + " outside [0, " + prompt.length + "]");
        }
        if (outputLength < 0 || outputLength > output.length) {
            throw new IllegalArgumentException("outputLength " + outputLength + " outside [0, " + output.length + "]");
        }
        return new TokenHistory(prompt, promptLength, output, outputLength);
    }

    /** A view of the whole of both arrays. */
    public static TokenHistory of(int[] prompt, int[] output) {
        return of(prompt, prompt.length, output, output.length);
    }

    public int promptLength() {
        return promptLength;
    }

    public int promptId(int i) {
        Objects.checkIndex(i, promptLength);
        return prompt[i];
    }

    /** How many tokens the request has generated before the one being sampled now. */
    public int outputLength() {
        return outputLength;
    }

    public int outputId(int i) {
        Objects.checkIndex(i, outputLength);
        return output[i];
    }
}
