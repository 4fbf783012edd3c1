package io.sparkmm.engine.models.qwen25omni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkmm.engine.models.RequestPositions;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * TMRoPE's corner cases on small prompts, expected values from transformers 5.18's
 * Qwen2_5OmniThinkerForConditionalGeneration.get_rope_index on the same token ids (run once by hand
 * on the tiny checkpoint; position_id_per_seconds 25, seconds_per_chunk 2, merge 2).
 */
class TmropeIndexTest {

    private final TmropeIndex index = new TmropeIndex(2, 25, 50);

    private static int[][] positions(RequestPositions p, int n) {
        int[][] out = new int[3][n];
        p.fill(0, n, out, 0);
        return out;
    }

    @Test
    void aVideoFrameFourSecondsApartStartsOneChunkAtATime() {
        // text, vision_bos, audio_bos, V, A, A, V, V, audio_eos, vision_eos, text: grid (3, 2, 2) at 2 s per
        // temporal patch puts the frames at 0, 50, 100; each reaches only the next chunk (one new chunk per
        // value), so the layout is V0, the 2 audio tokens, V1, V2
        RequestPositions p = index.positions(11, List.of(new TmropeIndex.AudioInVideo(2, 3, 2, 2, 2.0f, 2)));
        int[][] got = positions(p, 11);
        assertThat(got[0]).containsExactly(0, 1, 1, 2, 2, 3, 52, 102, 103, 103, 104);
        assertThat(got[1]).containsExactly(0, 1, 1, 2, 2, 3, 2, 2, 103, 103, 104);
        assertThat(got[2]).containsExactly(0, 1, 1, 2, 2, 3, 2, 2, 103, 103, 104);
        assertThat(p.delta()).isEqualTo(94);
        assertThat(index.interleave(new int[] {0, 50, 100}, 0, 2)).containsExactly(
                new int[] {0, 0, 1}, new int[] {1, 0, 2}, new int[] {0, 1, 2}, new int[] {0, 2, 3});
    }

    @Test
    void theEndTokensFollowTheLastChunkNotTheLargestPosition() {
        // one 8x8-patch frame (16 tokens, rows and columns 2..5) and 2 audio tokens: the last chunk written
        // is the audio's (2, 3), so both end tokens sit at 4 and the text after at 5, below the video's 5
        RequestPositions p = index.positions(24, List.of(new TmropeIndex.AudioInVideo(2, 1, 8, 8, 1.0f, 2)));
        int[][] got = positions(p, 24);
        assertThat(got[0]).containsExactly(0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 4, 4, 5);
        assertThat(got[1]).containsExactly(0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 2, 3, 4, 4, 5);
        assertThat(got[2]).containsExactly(0, 1, 1, 2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4, 4, 5);
        assertThat(p.delta()).isEqualTo(-18);
    }

    @Test
    void audioIsLinearAndGeneratedTokensContinueAfterThePrompt() {
        RequestPositions p = index.positions(6, List.of(new TmropeIndex.Audio(1, 3)));
        int[][] got = positions(p, 8);
        for (int[] section : got) {
            assertThat(section).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        }
        assertThat(p.delta()).isZero();
    }

    @Test
    void itemsPastThePromptOrOverlappingAreRefused() {
        assertThatThrownBy(() -> index.positions(4, List.of(new TmropeIndex.Audio(2, 3))))
                .hasMessageContaining("past the end");
        assertThatThrownBy(() -> index.positions(9, List.of(new TmropeIndex.Audio(1, 3), new TmropeIndex.Audio(2, 1))))
                .hasMessageContaining("overlaps");
    }
}
