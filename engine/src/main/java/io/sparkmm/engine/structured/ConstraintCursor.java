package io.sparkmm.engine.structured;

/**
 * One request's position in its constraint: masks each step's logits to the tokens that keep the
 * output in the language (EOS only where it may end) and follows the chosen token. Touched only by
 * the engine loop thread; the index it reads is immutable and shared.
 */
public final class ConstraintCursor {

    private final TokenMaskIndex index;
    private int state = TokenMaskIndex.START;

    public ConstraintCursor(TokenMaskIndex index) {
        this.index = index;
    }

    /**
     * Sets every logit the constraint does not allow to -infinity, in place (the caller's copy):
     * ids past the tokenizer's vocabulary (a padded embedding table) and special tokens are never
     * allowed; the EOS ids only where the output may end.
     *
     * @param logits [vocab] one request's logits
     * @return how many tokens remain allowed (0: the vocabulary cannot continue the output here)
     */
    public int mask(float[] logits, int[] eosIds) {
        long[] bits = index.allowed(state);
        boolean canEnd = index.isAccept(state);
        float[] eosValues = new float[eosIds.length];
        for (int i = 0; i < eosIds.length; i++) {
            eosValues[i] = eosIds[i] < logits.length ? logits[eosIds[i]] : Float.NEGATIVE_INFINITY;
        }
        int allowed = 0;
        int words = Math.min(bits.length, (logits.length + 63) >>> 6);
        for (int w = 0; w < words; w++) {
            long word = bits[w];
            int base = w << 6;
            int end = Math.min(base + 64, logits.length);
            if (word == 0) {
                java.util.Arrays.fill(logits, base, end, Float.NEGATIVE_INFINITY);
                continue;
            }
            if (word == -1L && end - base == 64) {
                allowed += 64;
                continue;
            }
            for (int i = base; i < end; i++) {
                if ((word >>> (i - base) & 1L) == 0) {
                    logits[i] = Float.NEGATIVE_INFINITY;
                } else {
                    allowed++;
                }
            }
        }
        if (words << 6 < logits.length) {
            java.util.Arrays.fill(logits, words << 6, logits.length, Float.NEGATIVE_INFINITY);
        }
        if (canEnd) {
            for (int i = 0; i < eosIds.length; i++) {
                if (eosIds[i] < logits.length && logits[eosIds[i]] == Float.NEGATIVE_INFINITY) {
                    logits[eosIds[i]] = eosValues[i];
                    allowed++;
                }
            }
        }
        return allowed;
    }

    /** Whether the output so far is complete for the constraint. */
    public boolean canEnd() {
        return index.isAccept(state);
    }

    /**
     * Follows {@code token}.
     *
     * @return false when the token is not allowed here (only when the caller chose outside the mask)
     */
    public boolean advance(int token) {
        int next = index.advance(state, token);
        if (next < 0) {
            return false;
        }
        state = next;
        return true;
    }
}
