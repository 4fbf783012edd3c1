package io.sparkmm.engine.models;

/**
 * The rope positions of one request, asked chunk by chunk. Ordinary rope: position p is p. M-RoPE
 * (Qwen2-VL and later): the prompt has one row per section (temporal, height, width) derived from
 * its media grids, and every later token sits at {@code p + delta} in all sections, delta being
 * the "rope delta" the prompt's media left behind. Immutable.
 */
public final class RequestPositions {

    /** Ordinary 1-D rope: the position of token p is p. */
    public static final RequestPositions LINEAR = new RequestPositions(null, 0);

    /** [sections][promptLength], or null for linear positions. */
    private final int[][] prompt;
    private final int delta;

    private RequestPositions(int[][] prompt, int delta) {
        this.prompt = prompt;
        this.delta = delta;
    }

    /**
     * @param promptPositions [sections][promptLength]: each section's position of each prompt token
     * @param delta generated token p (p >= promptLength) sits at p + delta in every section
     */
    public static RequestPositions sectioned(int[][] promptPositions, int delta) {
        int n = promptPositions[0].length;
        int[][] copy = new int[promptPositions.length][];
        for (int s = 0; s < promptPositions.length; s++) {
            if (promptPositions[s].length != n) {
                throw new IllegalArgumentException("section " + s + " has " + promptPositions[s].length
                        + " prompt positions, section 0 has " + n);
            }
            copy[s] = promptPositions[s].clone();
        }
        return new RequestPositions(copy, delta);
    }

    /**
     * Writes the positions of tokens [start, start + count) into out[s][outOffset ..] for every
     * section s of out (linear positions repeat the same value in each section).
     */
    public void fill(int start, int count, int[][] out, int outOffset) {
        for (int s = 0; s < out.length; s++) {
            int[] row = out[s];
            for (int i = 0; i < count; i++) {
                int p = start + i;
                if (prompt == null) {
                    row[outOffset + i] = p;
                } else if (p < prompt[0].length) {
                    row[outOffset + i] = prompt[Math.min(s, prompt.length - 1)][p];
                } else {
                    row[outOffset + i] = p + delta;
                }
            }
        }
    }

    public int delta() {
        return delta;
    }

    @Override
    public String toString() {
        return prompt == null ? "linear" : "sectioned(" + prompt.length + " x " + prompt[0].length + ", delta " + delta + ")";
    }
}
