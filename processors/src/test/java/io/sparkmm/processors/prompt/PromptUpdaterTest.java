package io.sparkmm.processors.prompt;

import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PromptUpdaterTest {

    private static final int IMAGE = 99;
    private static final PromptReplacement LLAVA = new PromptReplacement("image", "<image>", IMAGE, IMAGE);

    @Test
    void eachPlaceholderBecomesItsItemsCountWithRanges() {
        UpdatedPrompt u = PromptUpdater.applyToTokens(new int[] {1, 99, 5, 6, 99, 7}, LLAVA, new int[] {3, 2});
        assertThat(u.tokenIds()).containsExactly(1, 99, 99, 99, 5, 6, 99, 99, 7);
        assertThat(u.ranges()).containsExactly(new PlaceholderRange(1, 3), new PlaceholderRange(6, 2));
    }

    @Test
    void anAlreadyExpandedPromptIsOnlyLocated() {
        int[] expanded = {1, 99, 99, 99, 5, 99, 99, 7};
        UpdatedPrompt u = PromptUpdater.applyToTokens(expanded, LLAVA, new int[] {3, 2});
        assertThat(u.tokenIds()).containsExactly(expanded);
        assertThat(u.ranges()).containsExactly(new PlaceholderRange(1, 3), new PlaceholderRange(5, 2));
        // two items back to back in one run
        UpdatedPrompt adjacent = PromptUpdater.applyToTokens(new int[] {99, 99, 99, 99, 99}, LLAVA, new int[] {3, 2});
        assertThat(adjacent.ranges()).containsExactly(new PlaceholderRange(0, 3), new PlaceholderRange(3, 2));
    }

    @Test
    void aDistinctFeatureTokenIsRepeated() {
        PromptReplacement spec = new PromptReplacement("audio", "<|AUDIO|>", 50, 51);
        UpdatedPrompt u = PromptUpdater.applyToTokens(new int[] {50, 2}, spec, new int[] {4});
        assertThat(u.tokenIds()).containsExactly(51, 51, 51, 51, 2);
        assertThat(u.ranges()).containsExactly(new PlaceholderRange(0, 4));
    }

    @Test
    void textPromptsExpandToo() {
        assertThat(PromptUpdater.applyToText("a <image> b <image>", LLAVA, new int[] {2, 1}))
                .isEqualTo("a <image><image> b <image>");
    }

    @Test
    void countMismatchesNameBothCounts() {
        assertThatThrownBy(() -> PromptUpdater.applyToTokens(new int[] {1, 99, 99}, LLAVA, new int[] {5}))
                .hasMessageContaining("2 <image> placeholders but 1 image was given");
        assertThatThrownBy(() -> PromptUpdater.applyToTokens(new int[] {1, 2}, LLAVA, new int[] {5, 5}))
                .hasMessageContaining("0 <image> placeholders but 2 images were given");
        assertThatThrownBy(() -> PromptUpdater.applyToText("<image><image>", LLAVA, new int[] {1}))
                .hasMessageContaining("2 <image> placeholders but 1 image was given");
        assertThatThrownBy(() -> PromptUpdater.applyToText("no image", LLAVA, new int[] {1}))
                .hasMessageContaining("0 <image> placeholders");
    }
}
