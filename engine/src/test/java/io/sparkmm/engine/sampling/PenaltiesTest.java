package io.sparkmm.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each history-dependent edit changes a known logit by a hand-computed amount. */
class PenaltiesTest {

    private static final int[] NO_EOS = new int[0];

    private static SamplingParams.Builder base() {
        return SamplingParams.builder().temperature(0).maxTokens(8);
    }

    private static float[] apply(float[] logits, SamplingParams p, int[] prompt, int[] output, int... eos) {
        float[] work = logits.clone();
        Penalties.apply(work, p, TokenHistory.of(prompt, output), eos);
        return work;
    }

    @Test
    void repetitionDividesPositiveAndMultipliesNegativeLogitsOfSeenTokens() {
        // token 0 only in the prompt, token 1 only in the output (twice): each is penalised once
        float[] out = apply(new float[] {2, -2, 1}, base().repetitionPenalty(2).build(),
                new int[] {0}, new int[] {1, 1}, NO_EOS);
        assertThat(out).containsExactly(1f, -4f, 1f);
    }

    @Test
    void repetitionOfZeroLogitStaysZero() {
        float[] out = apply(new float[] {0, 3}, base().repetitionPenalty(1.5).build(), new int[] {0, 1}, new int[0]);
        assertThat(out).containsExactly(0f, 2f);
    }

    @Test
    void frequencyCountsOutputOccurrencesOnly() {
        // output: token 2 twice, token 0 once; token 1 is only in the prompt and is not touched
        float[] out = apply(new float[] {1, 1, 1}, base().frequencyPenalty(0.5).build(),
                new int[] {1, 1, 1}, new int[] {2, 0, 2});
        assertThat(out).containsExactly(0.5f, 1f, 0f);
    }

    @Test
    void presenceSubtractsOnceForEveryTokenInTheOutput() {
        float[] out = apply(new float[] {1, 1, 1}, base().presencePenalty(0.25).build(),
                new int[] {1}, new int[] {2, 0, 2});
        assertThat(out).containsExactly(0.75f, 1f, 0.75f);
    }

    @Test
    void negativePenaltiesEncourage() {
        float[] out = apply(new float[] {1, 1}, base().presencePenalty(-1).frequencyPenalty(-0.5).build(),
                new int[0], new int[] {1, 1});
        assertThat(out).containsExactly(1f, 3f);
    }

    @Test
    void allThreeInVllmOrderRepetitionThenFrequencyThenPresence() {
        // token 0: 3 / 2 - 0.5 * 2 - 0.25 = 0.25 ; token 1 (prompt only): -1 * 2 = -2 ; token 2 untouched
        SamplingParams p = base().repetitionPenalty(2).frequencyPenalty(0.5).presencePenalty(0.25).build();
        float[] out = apply(new float[] {3, -1, 4}, p, new int[] {1}, new int[] {0, 0});
        assertThat(out).containsExactly(0.25f, -2f, 4f);
    }

    @Test
    void minTokensMasksStopAndEosIdsUntilReached() {
        SamplingParams p = base().minTokens(2).stopTokenIds(List.of(1)).build();
        float[] logits = {1, 5, 2, 6};
        assertThat(apply(logits, p, new int[0], new int[] {0}, 3))
                .containsExactly(1f, Float.NEGATIVE_INFINITY, 2f, Float.NEGATIVE_INFINITY);
        assertThat(apply(logits, p, new int[0], new int[] {0, 0}, 3)).containsExactly(logits);
    }

    @Test
    void minTokensMasksEosEvenWithIgnoreEosAsVllmDoes() {
        SamplingParams p = base().minTokens(1).ignoreEos(true).build();
        assertThat(apply(new float[] {1, 2}, p, new int[0], new int[0], 1)).containsExactly(1f, Float.NEGATIVE_INFINITY);
    }

    @Test
    void maskIgnoresIdsOutsideTheVocabulary() {
        SamplingParams p = base().minTokens(1).stopTokenIds(List.of(7)).build();
        assertThat(apply(new float[] {1, 2}, p, new int[0], new int[0], 9)).containsExactly(1f, 2f);
    }

    @Test
    void historyIdOutsideTheLogitsFailsNamingIt() {
        SamplingParams p = base().repetitionPenalty(1.2).build();
        assertThatThrownBy(() -> apply(new float[] {1, 2}, p, new int[] {0, 5}, new int[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token id 5").hasMessageContaining("prompt position 1");
    }

    @Test
    void samplerAppliesPenaltiesBeforeGreedyAndLeavesTheCallersLogitsAlone() {
        float[] logits = {2, -2, 1.5f};
        float[] copy = logits.clone();
        SamplingParams p = base().repetitionPenalty(2).build();
        // token 0 becomes 1 < 1.5
        int t = Sampler.sample(logits, p, 0, 0, TokenHistory.of(new int[] {0}, new int[0]), NO_EOS);
        assertThat(t).isEqualTo(2);
        assertThat(logits).containsExactly(copy);
    }

    @Test
    void greedyWithMinTokensTakesTheBestNonStopToken() {
        SamplingParams p = base().minTokens(1).build();
        float[] logits = {1, 9, 3};
        assertThat(Sampler.sample(logits, p, 0, 0, TokenHistory.EMPTY, new int[] {1})).isEqualTo(2);
        TokenHistory one = TokenHistory.of(new int[0], new int[] {2});
        assertThat(Sampler.sample(logits, p, 0, 1, one, new int[] {1})).isEqualTo(1);
    }

    @Test
    void historyViewReadsOnlyTheGivenLengths() {
        int[] prompt = {4, 5, 6};
        int[] output = {7, 8, 0, 0};
        TokenHistory h = TokenHistory.of(prompt, 2, output, 2);
        assertThat(h.promptLength()).isEqualTo(2);
        assertThat(h.outputId(1)).isEqualTo(8);
        assertThatThrownBy(() -> h.outputId(2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> TokenHistory.of(prompt, 4, output, 0)).hasMessageContaining("promptLength");
        // only the first two output ids count: the trailing zeros are not "seen"
        float[] out = apply0(new float[] {3, 3, 3, 3, 3, 3, 3, 3, 3}, base().presencePenalty(1).build(), h);
        assertThat(out[0]).isEqualTo(3f);
        assertThat(out[7]).isEqualTo(2f);
    }

    private static float[] apply0(float[] logits, SamplingParams p, TokenHistory h) {
        float[] work = logits.clone();
        Penalties.apply(work, p, h, NO_EOS);
        return work;
    }
}
