package io.sparkmm.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SamplerTest {

    private static SamplingParams params(double t, double p, int k) {
        return SamplingParams.builder().temperature(t).topP(p).topK(k).seed(1L).maxTokens(4).build();
    }

    private static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    private static double[] frequencies(float[] logits, SamplingParams p, int draws) {
        double[] f = new double[logits.length];
        for (int s = 0; s < draws; s++) {
            f[Sampler.sample(logits, p, s, 0)] += 1.0 / draws;
        }
        return f;
    }

    @Test
    void greedyTakesTheFirstLargest() {
        assertThat(Sampler.sample(new float[] {1, 5, 5, 2}, SamplingParams.greedy(1), 0, 0)).isEqualTo(1);
    }

    @Test
    void temperatureOneFollowsTheModelDistribution() {
        double[] f = frequencies(logitsOf(0.5, 0.3, 0.2), params(1, 1, 0), 40_000);
        assertThat(f[0]).isCloseTo(0.5, within(0.015));
        assertThat(f[1]).isCloseTo(0.3, within(0.015));
        assertThat(f[2]).isCloseTo(0.2, within(0.015));
    }

    @Test
    void temperatureSharpensByDividingLogits() {
        // p ∝ prob^(1/T): with T = 0.5, (0.5^2, 0.3^2, 0.2^2) / 0.38
        double[] f = frequencies(logitsOf(0.5, 0.3, 0.2), params(0.5, 1, 0), 40_000);
        assertThat(f[0]).isCloseTo(0.25 / 0.38, within(0.015));
        assertThat(f[2]).isCloseTo(0.04 / 0.38, within(0.015));
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // cumulative 0.5 < 0.6 <= 0.8: tokens 0 and 1 remain, renormalised to 0.625 / 0.375
        double[] f = frequencies(logitsOf(0.5, 0.3, 0.2), params(1, 0.6, 0), 40_000);
        assertThat(f[2]).isZero();
        assertThat(f[0]).isCloseTo(0.625, within(0.015));
    }

    @Test
    void topKOneIsGreedy() {
        double[] f = frequencies(logitsOf(0.2, 0.5, 0.3), params(1.5, 1, 1), 2_000);
        assertThat(f[1]).isEqualTo(1.0, within(1e-9));
    }

    @Test
    void drawsArePureFunctionsOfSeedAndStep() {
        float[] l = logitsOf(0.25, 0.25, 0.25, 0.25);
        SamplingParams p = params(1, 1, 0);
        for (int step = 0; step < 50; step++) {
            assertThat(Sampler.sample(l, p, 99, step)).isEqualTo(Sampler.sample(l, p, 99, step));
        }
        long distinct = java.util.stream.IntStream.range(0, 50).map(s -> Sampler.sample(l, p, 99, s)).distinct().count();
        assertThat(distinct).isGreaterThan(1);
    }

    @Test
    void logprobsAreLogSoftmaxOfRawLogitsMostLikelyFirst() {
        List<TokenLogprob> top = Sampler.topLogprobs(new float[] {0f, (float) Math.log(3)}, 2);
        assertThat(top.get(0).tokenId()).isEqualTo(1);
        assertThat(top.get(0).logprob()).isCloseTo(Math.log(0.75), within(1e-6));
        assertThat(top.get(1).logprob()).isCloseTo(Math.log(0.25), within(1e-6));
    }

    @Test
    void badValuesNameTheField() {
        assertThatThrownBy(() -> params(-1, 1, 0)).hasMessageContaining("temperature").hasMessageContaining("-1");
        assertThatThrownBy(() -> params(1, 0, 0)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> params(1, 1, -2)).hasMessageContaining("top_k");
        assertThatThrownBy(() -> SamplingParams.builder().maxTokens(0).build()).hasMessageContaining("max_tokens");
        assertThatThrownBy(() -> SamplingParams.builder().logprobs(99).build()).hasMessageContaining("logprobs");
    }
}
