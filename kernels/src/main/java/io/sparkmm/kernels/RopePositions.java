package io.sparkmm.kernels;

import java.util.Arrays;

/**
 * The positions a rotary embedding rotates by, for {@link Backend#rope}: one row of positions
 * per section, and which frequencies each section owns.
 *
 * <ul>
 *   <li>{@code positions} int[S][n]: row j holds the position of each of the n token rows as
 *       section j sees it (for Qwen2-VL's M-RoPE, S = 3: temporal, height, width).</li>
 *   <li>{@code sections} int[S]: how many consecutive frequency pairs each section owns, in
 *       order, summing to headDim / 2 (Qwen2-VL's {@code mrope_section}, e.g. [16, 24, 24] for
 *       head dim 128). Frequency i &lt; headDim/2, and so the pair (x[i], x[i + headDim/2]) of
 *       the rotate_half layout, rotates by {@code positions[j][row] * invFreq[i]} with j the
 *       section i falls in.</li>
 * </ul>
 *
 * <p>{@link #linear} is the ordinary 1-D case: one row, owning every frequency whatever the
 * head dim, so it has no section sizes. Sections must be positive: a section of no frequency
 * would be a row of positions that never matters, which is more likely a wrong config than a
 * wish, so it is refused.
 *
 * <p>Immutable: arrays are copied in and out; kernels read through {@link #position(int, int)}.
 */
public final class RopePositions {

    /** [S][n]. */
    private final int[][] positions;
    /** [S] frequency pairs per section; empty for {@link #linear}. */
    private final int[] sections;

    private RopePositions(int[][] positions, int[] sections) {
        this.positions = positions;
        this.sections = sections;
    }

    /** Every frequency rotates by {@code positions[row]}: plain 1-D rope. */
    public static RopePositions linear(int[] positions) {
        if (positions == null) {
            throw new IllegalArgumentException("RopePositions.linear: positions are required");
        }
        return new RopePositions(new int[][] {positions.clone()}, new int[0]);
    }

    /**
     * Sectioned positions (M-RoPE): row j of {@code positions} serves the {@code sections[j]}
     * frequency pairs following those of the sections before it.
     *
     * @throws IllegalArgumentException if there is not one row per section, the rows differ in
     *     length, or a section is not positive
     */
    public static RopePositions sectioned(int[][] positions, int[] sections) {
        if (positions == null || sections == null) {
            throw new IllegalArgumentException("RopePositions.sectioned: positions and sections are required");
        }
        if (sections.length == 0 || positions.length != sections.length) {
            throw new IllegalArgumentException("RopePositions.sectioned: " + positions.length
                    + " rows of positions for sections " + Arrays.toString(sections)
                    + "; every section needs its own row, and there must be at least one");
        }
        for (int j = 0; j < sections.length; j++) {
            if (sections[j] <= 0) {
                throw new IllegalArgumentException("RopePositions.sectioned: section " + j + " of "
                        + Arrays.toString(sections) + " owns " + sections[j]
                        + " frequency pairs; every section must own at least one");
            }
        }
        int[][] rows = new int[positions.length][];
        for (int j = 0; j < positions.length; j++) {
            if (positions[j] == null) {
                throw new IllegalArgumentException("RopePositions.sectioned: position row " + j + " is null");
            }
            if (positions[j].length != positions[0].length) {
                throw new IllegalArgumentException("RopePositions.sectioned: position row " + j + " has "
                        + positions[j].length + " positions but row 0 has " + positions[0].length);
            }
            rows[j] = positions[j].clone();
        }
        return new RopePositions(rows, sections.clone());
    }

    /** Number of token rows n. */
    public int rows() {
        return positions[0].length;
    }

    /** Number of sections S (1 for {@link #linear}). */
    public int numSections() {
        return positions.length;
    }

    /** Whether this is the 1-D case, whose one row owns every frequency. */
    public boolean isLinear() {
        return sections.length == 0;
    }

    /** Position of token {@code row} as section {@code section} sees it. */
    public int position(int section, int row) {
        return positions[section][row];
    }

    /** A copy of section {@code section}'s row of positions. */
    public int[] positions(int section) {
        return positions[section].clone();
    }

    /** A copy of the frequency pairs per section; empty for {@link #linear}. */
    public int[] sections() {
        return sections.clone();
    }

    /**
     * The section of each of the {@code headDim / 2} frequencies: what a kernel indexes
     * {@link #position(int, int)} with.
     *
     * @throws IllegalArgumentException if the sections do not cover exactly headDim / 2 pairs
     */
    public int[] sectionOfEachFrequency(int headDim) {
        int half = headDim / 2;
        int[] owner = new int[half];
        if (isLinear()) {
            return owner;
        }
        long covered = 0;
        for (int s : sections) {
            covered += s;
        }
        if (covered != half) {
            throw new IllegalArgumentException("rope: sections " + Arrays.toString(sections) + " cover " + covered
                    + " frequency pairs but head dim " + headDim + " has " + half);
        }
        int f = 0;
        for (int j = 0; j < sections.length; j++) {
            for (int i = 0; i < sections[j]; i++) {
                owner[f++] = j;
            }
        }
        return owner;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RopePositions p && Arrays.deepEquals(positions, p.positions)
                && Arrays.equals(sections, p.sections);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.deepHashCode(positions) + Arrays.hashCode(sections);
    }

    @Override
    public String toString() {
        return isLinear() ? "RopePositions.linear[" + rows() + " rows]"
                : "RopePositions.sectioned[" + rows() + " rows, sections " + Arrays.toString(sections) + "]";
    }
}
