package io.sparkmm.engine.models.llavaonevision;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * apply_pooling by hand: a 3 x 3 grid shrinks to 2 x 2 with PyTorch's bilinear sampling at source
 * coordinates 1.5 * (dst + 0.5) - 0.5 = 0.25 and 1.75; on a grid that is linear in (row, column) the
 * result is that same linear function there. Frames pool independently; channels are kept apart.
 */
class VideoPoolingTest {

    @Test
    void aThreeByThreeGridPoolsToTheLinearValuesAtQuarterPositions() {
        int side = 3;
        int dim = 2;
        float[] features = new float[2 * side * side * dim];
        for (int f = 0; f < 2; f++) {
            for (int r = 0; r < side; r++) {
                for (int c = 0; c < side; c++) {
                    int o = ((f * side + r) * side + c) * dim;
                    features[o] = 3 * r + c + 100 * f;   // channel 0: 3r + c (+100 on frame 1)
                    features[o + 1] = -c;                // channel 1: -c
                }
            }
        }
        float[] out = VideoPooling.pool(features, 2, side, dim);
        assertThat(out).hasSize(2 * 4 * dim);
        float[] rows = {0.25f, 1.75f};
        for (int f = 0; f < 2; f++) {
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 2; x++) {
                    int o = ((f * 2 + y) * 2 + x) * dim;
                    assertThat(out[o]).isCloseTo(3 * rows[y] + rows[x] + 100 * f, within(1e-5f));
                    assertThat(out[o + 1]).isCloseTo(-rows[x], within(1e-5f));
                }
            }
        }
    }

    @Test
    void aTwoByTwoGridAveragesToOneFeature() {
        // 2 -> 1: sampled at 2 * 0.5 - 0.5 = 0.5, the mean of the four
        float[] out = VideoPooling.pool(new float[] {1, 2, 3, 6}, 1, 2, 1);
        assertThat(out).containsExactly(3f);
    }

    @Test
    void aWrongFeatureCountIsRefused() {
        assertThatThrownBy(() -> VideoPooling.pool(new float[5], 1, 2, 1)).hasMessageContaining("expected 1 x 2^2 x 1");
    }
}
