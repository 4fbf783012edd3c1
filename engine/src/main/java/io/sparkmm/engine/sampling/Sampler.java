package io.sparkmm.engine.sampling;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits. The result depends only on the request's own
 * inputs (its logits, parameters, seed, step and token history), never on other requests or on
 * call order, so a request samples the same tokens alone or in any batch, and a retried task
 * reproduces its rows.
 *
 * <p>Order of processing, as in vLLM v1: (a) min_tokens masks the stop and EOS ids, (b)
 * repetition, frequency and presence penalties, (c) greedy argmax when temperature is 0,
 * otherwise division by the temperature, (d) min_p, (e) top-k, (f) top-p, then one draw by
 * inverse CDF over the renormalised distribution with a uniform number that is a pure function
 * of (seed, step). The caller's logits are never modified.
 *
 * <p>Logprobs ({@link #topLogprobs}) are of the raw model distribution (log-softmax of the
 * unprocessed logits, before penalties, temperature and truncation), as vLLM returns by default.
 *
 * <p>Cost per call: greedy without penalties is one pass; sampling without top-k / top-p is a
 * few passes over the vocabulary and no sort; top-k is a bounded heap; top-p alone sorts only the
 * head of the distribution that can hold the nucleus.
 */
public final class Sampler {

    private static final int[] NO_IDS = new int[0];

    /**
     * Top-p alone sorts only tokens whose probability is at least this fraction of the top
     * token's, trying the next (smaller) floor when their mass does not reach top_p; the last
     * floor is 0, i.e. every token. Any such set is a prefix of the sorted order, so the nucleus
     * found in it is the one a full sort finds.
     */
    private static final double[] NUCLEUS_FLOORS = {1e-3, 1e-6, 1e-10};

    private Sampler() {
    }

    /**
     * The chosen token id for generation step {@code step} (0 for the first generated token),
     * without history: no penalties, no min_tokens masking. Kept for callers that have no token
     * history; the engine uses {@link #sample(float[], SamplingParams, long, int, TokenHistory, int[])}.
     */
    public static int sample(float[] logits, SamplingParams p, long seed, int step) {
        return choose(logits, logits, p, seed, step);
    }

    /**
     * The chosen token id for generation step {@code step} of a request.
     *
     * @param logits the model's raw logits for this request's next token; not modified
     * @param p the request's sampling parameters
     * @param seed the request's seed (its own, or one the engine drew for it once)
     * @param step the index of the token being sampled (0 for the first generated token)
     * @param history the request's prompt and the tokens it has generated so far; the output length
     *     decides min_tokens, the ids feed the penalties
     * @param eosTokenIds the model's EOS ids (config and generation_config), masked with
     *     {@code p.stopTokenIds()} while fewer than {@code p.minTokens()} tokens exist, even with
     *     ignore_eos, as vLLM does
     * @throws IllegalArgumentException when a history id is outside the logits
     */
    public static int sample(float[] logits, SamplingParams p, long seed, int step, TokenHistory history,
                             int[] eosTokenIds) {
        float[] work = logits;
        if (Penalties.needed(p, history)) {
            work = logits.clone();
            Penalties.apply(work, p, history, eosTokenIds == null ? NO_IDS : eosTokenIds);
        }
        return choose(logits, work, p, seed, step);
    }

    /** Steps (c) to (f) on {@code work}, which may be written to only when it is not the caller's array. */
    private static int choose(float[] callers, float[] work, SamplingParams p, long seed, int step) {
        if (p.isGreedy()) {
            return argmax(work);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float l : work) {
            max = Math.max(max, l);
        }
        if (max == Float.NEGATIVE_INFINITY || Float.isNaN(max)) {
            // everything masked (or broken logits): there is no distribution to draw from
            return argmax(work);
        }
        double u = uniform(seed, step);
        int v = work.length;
        boolean topK = p.topK() > 0 && p.topK() < v;
        boolean topP = p.topP() < 1;
        if (!topK && !topP) {
            return drawFromAll(work == callers ? new float[v] : work, work, max, p, u);
        }
        Weight weight = new Weight(max, p.temperature());
        double minP = p.minP();
        Candidates.Eligibility eligible = l -> l != Float.NEGATIVE_INFINITY && (minP == 0 || weight.of(l) >= minP);
        long[] order;
        double mass;
        if (topK) {
            order = Candidates.topK(work, p.topK(), eligible);
            mass = 0;
            for (long key : order) {
                mass += weight.of(work[Candidates.id(key)]);
            }
        } else {
            // one pass measures the mass above each floor, then only the smallest head that can
            // hold the nucleus is sorted
            double[] above = new double[NUCLEUS_FLOORS.length];
            mass = 0;
            for (float l : work) {
                if (!eligible.test(l)) {
                    continue;
                }
                double w = weight.of(l);
                mass += w;
                for (int f = 0; f < NUCLEUS_FLOORS.length; f++) {
                    if (w >= NUCLEUS_FLOORS[f]) {
                        above[f] += w;
                    }
                }
            }
            float floor = Float.NEGATIVE_INFINITY;
            for (int f = 0; f < NUCLEUS_FLOORS.length; f++) {
                if (above[f] >= p.topP() * mass) {
                    floor = weight.logitFloor(NUCLEUS_FLOORS[f]);
                    break;
                }
            }
            order = Candidates.atLeast(work, floor, eligible);
        }
        return drawFromHead(order, work, weight, mass, p.topP(), u);
    }

    /**
     * Inverse CDF over the whole vocabulary in id order, no sort: the weights go into
     * {@code weights} (the private copy of the logits when there is one) so that the walk adds
     * exactly the numbers that made the total.
     */
    private static int drawFromAll(float[] weights, float[] logits, float max, SamplingParams p, double u) {
        double t = p.temperature();
        double minP = p.minP();
        double total = 0;
        for (int i = 0; i < logits.length; i++) {
            double w = Math.exp(((double) logits[i] - max) / t);
            // min_p: probability below minP times the top token's; the top token has weight 1
            weights[i] = w < minP ? 0f : (float) w;
            total += weights[i];
        }
        double target = u * total;
        double acc = 0;
        int last = -1;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0) {
                acc += weights[i];
                last = i;
                if (target < acc) {
                    return i;
                }
            }
        }
        return last;
    }

    /**
     * Inverse CDF over {@code order} (best first): top-p keeps the shortest prefix whose share of
     * {@code mass} (the mass of every token still eligible) reaches topP, at least one token.
     */
    private static int drawFromHead(long[] order, float[] logits, Weight weight, double mass, double topP,
                                    double u) {
        double[] w = new double[order.length];
        for (int i = 0; i < order.length; i++) {
            w[i] = weight.of(logits[Candidates.id(order[i])]);
        }
        int keep = order.length;
        if (topP < 1) {
            double cumulative = 0;
            for (int i = 0; i < order.length; i++) {
                cumulative += w[i];
                if (cumulative >= topP * mass) {
                    keep = i + 1;
                    break;
                }
            }
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += w[i];
        }
        double target = u * total;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += w[i];
            if (target < acc) {
                return Candidates.id(order[i]);
            }
        }
        return Candidates.id(order[keep - 1]);
    }

    /** exp((logit - max) / T): the probability relative to the most likely token's. */
    private record Weight(float max, double temperature) {
        double of(float logit) {
            return Math.exp(((double) logit - max) / temperature);
        }

        /** A logit below which every weight is under {@code w}: tokens at or above it include all with weight >= w. */
        float logitFloor(double w) {
            return Math.nextDown((float) (max + temperature * Math.log(w)));
        }
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
