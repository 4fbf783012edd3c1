package io.sparkmm.processors.prompt;

import org.junit.jupiter.api.Test;

import java.util.List;


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

    @Test
    void aTokenSequenceReplacementCarriesItsIsEmbedMask() {
        // <start> f f <newline> f f <end>: only the four feature positions take encoder rows
        int start = 7, feature = 8, newline = 9, end = 10;
        PromptReplacement spec = new PromptReplacement("image", "<image>", IMAGE, feature);
        ItemReplacement grid = ItemReplacement.selectingToken(new int[] {start, feature, feature, newline, feature, feature, end}, feature);
        ItemReplacement small = ItemReplacement.selectingToken(new int[] {start, feature, end}, feature);
        UpdatedPrompt u = PromptUpdater.applyToTokens(new int[] {1, IMAGE, 2, IMAGE}, spec, List.of(grid, small));
        assertThat(u.tokenIds()).containsExactly(1, 7, 8, 8, 9, 8, 8, 10, 2, 7, 8, 10);
        PlaceholderRange first = u.ranges().get(0);
        assertThat(first.offset()).isEqualTo(1);
        assertThat(first.length()).isEqualTo(7);
        assertThat(first.numEmbeddings()).isEqualTo(4);
        assertThat(first.isEmbed()).containsExactly(false, true, true, false, true, true, false);
        // the row a position takes is the number of embedded positions before it
        // (the newline at 3 takes none; the features at 4 and 5 take rows 2 and 3)
        assertThat(first.embeddingsBefore(1)).isEqualTo(0);
        assertThat(first.embeddingsBefore(4)).isEqualTo(2);
        assertThat(first.embeddingsBefore(5)).isEqualTo(3);
        assertThat(u.ranges().get(1)).isEqualTo(new PlaceholderRange(9, 3, new boolean[] {false, true, false}));
        // the expanded form is located, not expanded again
        UpdatedPrompt again = PromptUpdater.applyToTokens(u.tokenIds(), spec, List.of(grid, small));
        assertThat(again.tokenIds()).containsExactly(u.tokenIds());
        assertThat(again.ranges()).isEqualTo(u.ranges());
    }

    @Test
    void aStrayPlaceholderOutsideTheLocatedRunsIsAMismatch() {
        assertThatThrownBy(() -> PromptUpdater.applyToTokens(new int[] {99, 99, 99, 99}, LLAVA, new int[] {3}))
                .hasMessageContaining("4 <image> placeholders but 1 image was given");
    }

    @Test
    void aMaskWithNoEmbeddedPositionIsRefused() {
        assertThatThrownBy(() -> new PlaceholderRange(0, 2, new boolean[] {false, false}))
                .hasMessageContaining("no embedding position");
        assertThat(new PlaceholderRange(0, 2, new boolean[] {true, true})).isEqualTo(new PlaceholderRange(0, 2));
    }
}
