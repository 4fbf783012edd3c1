package io.sparkmm.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Sampling with history: min_p, min_tokens, order of processing, the fast paths. */
class SamplerProcessingTest {

    private static final int[] NO_EOS = new int[0];

    private static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    private static double[] frequencies(float[] logits, SamplingParams p, TokenHistory h, int[] eos, int draws) {
        double[] f = new double[logits.length];
        for (int s = 0; s < draws; s++) {
            f[Sampler.sample(logits, p, s, 3, h, eos)] += 1.0 / draws;
        }
        return f;
    }

    private static SamplingParams.Builder sampling() {
        return SamplingParams.builder().temperature(1).seed(1L).maxTokens(8);
    }

    @Test
    void minPDropsTokensBelowTheFractionOfTheTopProbability() {
        // threshold 0.2 * 0.5 = 0.1: token 3 (0.05) is dropped, token 2 (0.15) stays
        double[] f = frequencies(logitsOf(0.5, 0.3, 0.15, 0.05), sampling().minP(0.2).build(),
                TokenHistory.EMPTY, NO_EOS, 40_000);
        assertThat(f[3]).isZero();
        assertThat(f[0]).isCloseTo(0.5 / 0.95, within(0.015));
        assertThat(f[1]).isCloseTo(0.3 / 0.95, within(0.015));
        assertThat(f[2]).isCloseTo(0.15 / 0.95, within(0.012));
    }

    @Test
    void minPComparesProbabilitiesAfterTemperature() {
        // T = 0.5 squares the probabilities: relative to the top 1, 0.36, 0.09, 0.01; min_p 0.2 keeps 0 and 1
        double[] f = frequencies(logitsOf(0.5, 0.3, 0.15, 0.05), sampling().temperature(0.5).minP(0.2).build(),
                TokenHistory.EMPTY, NO_EOS, 40_000);
        assertThat(f[2]).isZero();
        assertThat(f[3]).isZero();
        assertThat(f[0]).isCloseTo(0.25 / 0.34, within(0.015));
    }

    @Test
    void topPMeasuresTheMassLeftByTopK() {
        // top-k 3 keeps 0..2 (mass 0.75); top-p 0.6 of that (0.45) is reached by 0.3 + 0.25. On the
        // whole distribution top-p 0.6 would also keep token 2 (0.3 + 0.25 < 0.6).
        float[] logits = logitsOf(0.3, 0.25, 0.2, 0.15, 0.06, 0.04);
        double[] f = frequencies(logits, sampling().topK(3).topP(0.6).build(), TokenHistory.EMPTY, NO_EOS, 40_000);
        assertThat(f[2] + f[3] + f[4] + f[5]).isZero();
        assertThat(f[0]).isCloseTo(0.3 / 0.55, within(0.015));
    }

    @Test
    void topPMeasuresTheMassLeftByMinP() {
        // min_p 0.25 drops tokens 4 and 5 (below 0.075), leaving mass 0.9; top-p 0.6 of that (0.54)
        // is reached by 0.3 + 0.25, so token 2 goes too
        float[] logits = logitsOf(0.3, 0.25, 0.2, 0.15, 0.06, 0.04);
        double[] f = frequencies(logits, sampling().minP(0.25).topP(0.6).build(), TokenHistory.EMPTY, NO_EOS, 40_000);
        assertThat(f[2] + f[3] + f[4] + f[5]).isZero();
        assertThat(f[1]).isCloseTo(0.25 / 0.55, within(0.015));
        // without min_p the same top-p keeps token 2
        double[] g = frequencies(logits, sampling().topP(0.6).build(), TokenHistory.EMPTY, NO_EOS, 40_000);
        assertThat(g[2]).isCloseTo(0.2 / 0.75, within(0.015));
    }

    @Test
    void penaltiesComeBeforeTemperatureAndTruncation() {
        // repetition 2 on token 0: log 0.6 < 0 doubles, so token 0 falls from first place to below token 1
        // and top-k 1 then keeps token 1
        SamplingParams p = sampling().repetitionPenalty(2).topK(1).build();
        float[] logits = logitsOf(0.6, 0.4);
        TokenHistory h = TokenHistory.of(new int[0], new int[] {0});
        assertThat(Sampler.sample(logits, p, 5, 0, h, NO_EOS)).isEqualTo(1);
        assertThat(Sampler.sample(logits, p, 5, 0, TokenHistory.EMPTY, NO_EOS)).isEqualTo(0);
    }

    @Test
    void minTokensNeverDrawsEosBeforeAndDoesAfter() {
        SamplingParams p = sampling().minTokens(2).build();
        float[] logits = logitsOf(0.25, 0.5, 0.25);
        int[] eos = {1};
        TokenHistory one = TokenHistory.of(new int[] {0}, new int[] {2});
        double[] before = frequencies(logits, p, one, eos, 4_000);
        assertThat(before[1]).isZero();
        assertThat(before[0]).isCloseTo(0.5, within(0.04));
        TokenHistory two = TokenHistory.of(new int[] {0}, new int[] {2, 2});
        assertThat(frequencies(logits, p, two, eos, 4_000)[1]).isCloseTo(0.5, within(0.04));
    }

    @Test
    void fullDistributionMatchesSoftmax() {
        SplittableRandom r = new SplittableRandom(7);
        float[] logits = new float[40];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 1.5);
        }
        double t = 0.8;
        double[] softmax = new double[logits.length];
        double z = 0;
        for (int i = 0; i < logits.length; i++) {
            softmax[i] = Math.exp(logits[i] / t);
            z += softmax[i];
        }
        int draws = 100_000;
        double[] f = frequencies(logits, sampling().temperature(t).build(), TokenHistory.EMPTY, NO_EOS, draws);
        for (int i = 0; i < logits.length; i++) {
            double p = softmax[i] / z;
            // 5 standard deviations of a binomial frequency, plus a little for tiny probabilities
            assertThat(f[i]).as("token %d", i).isCloseTo(p, within(5 * Math.sqrt(p * (1 - p) / draws) + 1e-4));
        }
    }

    @Test
    void identicalInputsGiveIdenticalTokens() {
        SplittableRandom r = new SplittableRandom(11);
        float[] logits = new float[500];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian();
        }
        SamplingParams p = sampling().topP(0.9).repetitionPenalty(1.3).presencePenalty(0.5).build();
        for (int step = 0; step < 40; step++) {
            int[] prompt = {3, 4, 5};
            int[] out = IntStream.range(0, step).map(i -> i % 7).toArray();
            int a = Sampler.sample(logits, p, 42, step, TokenHistory.of(prompt, out), NO_EOS);
            int b = Sampler.sample(logits.clone(), p, 42, step, TokenHistory.of(prompt.clone(), out.clone()), NO_EOS);
            assertThat(a).isEqualTo(b);
        }
    }

    /** The fast paths (heap top-k, partial nucleus sort, unsorted full draw) pick what a full sort picks. */
    @Test
    void fastPathsAgreeWithAFullSortReference() {
        SplittableRandom r = new SplittableRandom(3);
        for (int round = 0; round < 30; round++) {
            int v = 2_000 + r.nextInt(3_000);
            float[] logits = new float[v];
            for (int i = 0; i < v; i++) {
                // coarse values make ties common; a sharp head makes the partial nucleus sort kick in
                logits[i] = Math.round(r.nextGaussian() * 4) / 2f;
            }
            logits[r.nextInt(v)] = 12;
            double t = 0.5 + r.nextDouble();
            double topP = round % 3 == 0 ? 1 : 0.3 + 0.69 * r.nextDouble();
            int topK = round % 2 == 0 ? 0 : 1 + r.nextInt(50);
            double minP = round % 5 == 0 ? 0.01 : 0;
            SamplingParams p = sampling().temperature(t).topP(topP).topK(topK).minP(minP).build();
            for (int seed = 0; seed < 40; seed++) {
                int expected = reference(logits, p, Sampler.uniform(seed, 1), topK == 0 && topP == 1);
                assertThat(Sampler.sample(logits, p, seed, 1, TokenHistory.EMPTY, NO_EOS))
                        .as("round %d seed %d", round, seed).isEqualTo(expected);
            }
        }
    }

    /** Full sort by (logit desc, id asc), same weights and the same sums as the sampler. */
    private static int reference(float[] logits, SamplingParams p, double u, boolean idOrder) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] w = new double[logits.length];
        double mass = 0;
        for (int i = 0; i < logits.length; i++) {
            w[i] = Math.exp(((double) logits[i] - max) / p.temperature());
            if (w[i] < p.minP()) {
                w[i] = 0;
            }
            if (idOrder) {
                w[i] = (float) w[i];
            }
            mass += w[i];
        }
        List<Integer> order = IntStream.range(0, logits.length).boxed()
                .filter(i -> w[i] > 0 || p.minP() == 0)
                .sorted(Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparingInt(i -> i))
                .toList();
        if (idOrder) {
            double acc = 0;
            for (int i = 0; i < logits.length; i++) {
                acc += w[i];
                if (u * mass < acc) {
                    return i;
                }
            }
            throw new AssertionError();
        }
        int keep = p.topK() > 0 ? Math.min(p.topK(), order.size()) : order.size();
        if (p.topK() > 0) {
            mass = 0;
            for (int i = 0; i < keep; i++) {
                mass += w[order.get(i)];
            }
        }
        double cumulative = 0;
        for (int i = 0; i < keep && p.topP() < 1; i++) {
            cumulative += w[order.get(i)];
            if (cumulative >= p.topP() * mass) {
                keep = i + 1;
                break;
            }
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += w[order.get(i)];
        }
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += w[order.get(i)];
            if (u * total < acc) {
                return order.get(i);
            }
        }
        return order.get(keep - 1);
    }

    @Test
    void topKHeapKeepsTheKBestWithTiesByLowerId() {
        float[] logits = {1, 3, 3, 2, 3, 0};
        long[] top = Candidates.topK(logits, 3, l -> true);
        assertThat(Arrays.stream(top).mapToInt(Candidates::id).toArray()).containsExactly(1, 2, 4);
        long[] all = Candidates.atLeast(new float[] {-0.5f, 2, -3, 2}, -1, l -> true);
        assertThat(Arrays.stream(all).mapToInt(Candidates::id).toArray()).containsExactly(1, 3, 0);
    }

    @Test
    void everythingMaskedFallsBackToArgmaxInsteadOfFailing() {
        SamplingParams p = sampling().minTokens(1).build();
        int t = Sampler.sample(new float[] {1, 2}, p, 0, 0, TokenHistory.EMPTY, new int[] {0, 1});
        assertThat(t).isBetween(0, 1);
    }
}
