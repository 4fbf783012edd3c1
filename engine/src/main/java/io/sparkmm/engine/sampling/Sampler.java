package io.sparkmm.engine.sampling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits. The random draw depends only on the request's
 * seed and its step number, never on other requests or on call order, so a request samples the
 * same tokens alone or in any batch, and a retried task reproduces its rows.
 *
 * <p>Order of processing, as in Hugging Face and vLLM: temperature, top-k, top-p, then one draw
 * by inverse CDF over the renormalised distribution. Logprobs are of the raw model
 * distribution (log-softmax of the unprocessed logits), as vLLM returns by default.
 */
public final class Sampler {

    private Sampler() {
    }

    /** The chosen token id for generation step {@code step} (0 for the first generated token). */
    public static int sample(float[] logits, SamplingParams p, long seed, int step) {
        if (p.isGreedy()) {
            return argmax(logits);
        }
        int v = logits.length;
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) {
            order[i] = i;
        }
        // Descending by logit, ties by lower id: a total order, so the result is reproducible.
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(logits[b], logits[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        double max = logits[order[0]] / p.temperature();
        double[] probs = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            probs[i] = Math.exp(logits[order[i]] / p.temperature() - max);
            total += probs[i];
        }
        if (p.topP() < 1) {
            // smallest prefix whose mass reaches top_p; always at least one token
            double cumulative = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cumulative += probs[i] / total;
                if (cumulative >= p.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            total = 0;
            for (int i = 0; i < keep; i++) {
                total += probs[i];
            }
        }
        double u = uniform(seed, step) * total;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += probs[i];
            if (u < acc) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    /** A uniform draw in [0, 1) that is a pure function of (seed, step). */
    static double uniform(long seed, int step) {
        return new SplittableRandom(mix(seed, step)).nextDouble();
    }

    private static long mix(long seed, int step) {
        long z = seed + 0x9E3779B97F4A7C15L * (step + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The first index of the largest value. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The K most likely tokens under log-softmax of the raw logits, most likely first. */
    public static List<TokenLogprob> topLogprobs(float[] logits, int k) {
        if (k == 0) {
            return List.of();
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double logZ = max + Math.log(sum);
        int[] top = new int[Math.min(k, logits.length)];
        boolean[] taken = new boolean[logits.length];
        for (int r = 0; r < top.length; r++) {
            int best = -1;
            for (int i = 0; i < logits.length; i++) {
                if (!taken[i] && (best < 0 || logits[i] > logits[best])) {
                    best = i;
                }
            }
            taken[best] = true;
            top[r] = best;
        }
        List<TokenLogprob> out = new ArrayList<>(top.length);
        for (int id : top) {
            out.add(new TokenLogprob(id, logits[id] - logZ));
        }
        return out;
    }
}
