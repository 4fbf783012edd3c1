package io.sparkmm.engine.sampling;

import java.util.Arrays;

/**
 * The history-dependent logit edits that come before temperature, in vLLM v1's order: the
 * min_tokens mask, then repetition, frequency and presence penalties. They work on the sampler's
 * private copy of the logits, in float like vLLM's float32 tensors, so a penalised logit has
 * exactly the value vLLM computes.
 */
final class Penalties {

    private Penalties() {
    }

    /** Whether {@link #apply} would change anything for this request at this step. */
    static boolean needed(SamplingParams p, TokenHistory h) {
        return masksStops(p, h) || p.hasPenalties();
    }

    /**
     * Before min_tokens tokens exist, no token that would end the request may be drawn: the
     * request's stop ids and the model's EOS ids. vLLM masks EOS here even with ignore_eos (its
     * internal all-stop set always holds EOS), and so do we: otherwise an ignore_eos request could
     * draw EOS in its first tokens but not the same request without ignore_eos.
     */
    private static boolean masksStops(SamplingParams p, TokenHistory h) {
        return h.outputLength < p.minTokens();
    }

    static void apply(float[] logits, SamplingParams p, TokenHistory h, int[] eosTokenIds) {
        if (masksStops(p, h)) {
            for (int id : p.stopTokenIds()) {
                mask(logits, id);
            }
            for (int id : eosTokenIds) {
                mask(logits, id);
            }
        }
        if (p.repetitionPenalty() != 1) {
            repetition(logits, (float) p.repetitionPenalty(), h);
        }
        if (p.frequencyPenalty() != 0 || p.presencePenalty() != 0) {
            frequencyAndPresence(logits, (float) p.frequencyPenalty(), (float) p.presencePenalty(), h);
        }
    }

    /** An id outside the vocabulary cannot be drawn anyway, so there is nothing to mask. */
    private static void mask(float[] logits, int id) {
        if (id >= 0 && id < logits.length) {
            logits[id] = Float.NEGATIVE_INFINITY;
        }
    }

    /**
     * Every distinct token of prompt or output is penalised once, however often it occurs:
     * dividing a positive logit and multiplying a negative one both make the token less likely
     * when the penalty is above 1. A boolean per vocabulary entry is cheaper than sorting a long
     * prompt at every step.
     */
    private static void repetition(float[] logits, float penalty, TokenHistory h) {
        boolean[] seen = new boolean[logits.length];
        repetition(logits, penalty, seen, h.prompt, h.promptLength, "prompt");
        repetition(logits, penalty, seen, h.output, h.outputLength, "output");
    }

    private static void repetition(float[] logits, float penalty, boolean[] seen, int[] ids, int n, String where) {
        for (int i = 0; i < n; i++) {
            int id = checked(ids[i], logits.length, where, i);
            if (!seen[id]) {
                seen[id] = true;
                float l = logits[id];
                logits[id] = l > 0 ? l / penalty : l * penalty;
            }
        }
    }

    /**
     * Only the output counts here (vLLM's output_bin_counts). The output is short next to the
     * vocabulary, so sorting a copy of it gives the counts without a vocabulary-sized array.
     */
    private static void frequencyAndPresence(float[] logits, float frequency, float presence, TokenHistory h) {
        int[] sorted = Arrays.copyOf(h.output, h.outputLength);
        for (int i = 0; i < sorted.length; i++) {
            checked(sorted[i], logits.length, "output", i);
        }
        Arrays.sort(sorted);
        for (int start = 0; start < sorted.length; ) {
            int id = sorted[start];
            int end = start + 1;
            while (end < sorted.length && sorted[end] == id) {
                end++;
            }
            // two separate float subtractions, as vLLM applies the two penalties one after the other
            logits[id] -= frequency * (end - start);
            logits[id] -= presence;
            start = end;
        }
    }

    /** A history id outside the logits means the caller mixed up requests or models: fail loudly. */
    private static int checked(int id, int vocab, String where, int position) {
        if (id < 0 || id >= vocab) {
            throw new IllegalArgumentException("token id " + id + " at " + where + " position " + position
                    + " is outside the vocabulary of " + vocab + " logits");
        }
        return id;
    }
}
