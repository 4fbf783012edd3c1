package io.sparkmm.engine.structured;

import java.util.ArrayDeque;

/**
 * For one constraint over one vocabulary: at each automaton state a generation can be in between
 * tokens, the set of tokens whose bytes keep the output inside the language. Built once, in the
 * thread that submits the first request with the constraint, never in the engine loop: states are
 * discovered breadth-first from the start by walking every token's bytes (tokens grouped by first
 * byte once per vocabulary, {@link TokenBytes#laterByFirstByte()}, so a state only walks tokens
 * whose first byte it can take).
 *
 * <p>The start is a state of its own ({@link #START}) because an output's first token can add
 * other bytes than the same token later (see {@link TokenBytes}).
 */
public final class TokenMaskIndex {

    /** The cursor position before the first token. */
    public static final int START = -1;

    private final ByteDfa dfa;
    private final TokenBytes vocab;
    /** [dfa state] -> allowed token bitset, null where no token boundary can land. */
    private final long[][] allowed;
    private final long[] allowedAtStart;
    private final int reachableStates;
    private final long buildNanos;

    private TokenMaskIndex(ByteDfa dfa, TokenBytes vocab, long[][] allowed, long[] allowedAtStart, int reachable,
                           long buildNanos) {
        this.dfa = dfa;
        this.vocab = vocab;
        this.allowed = allowed;
        this.allowedAtStart = allowedAtStart;
        this.reachableStates = reachable;
        this.buildNanos = buildNanos;
    }

    /**
     * @throws IllegalArgumentException when no token can start an output of the constraint
     *     (and the empty output is not in it either)
     */
    public static TokenMaskIndex build(ByteDfa dfa, TokenBytes vocab, String what) {
        long t0 = System.nanoTime();
        int v = vocab.size();
        int[][] groups = vocab.laterByFirstByte();
        long[][] allowed = new long[dfa.states()][];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        long[] start = new long[(v + 63) >>> 6];
        for (int id = 0; id < v; id++) {
            byte[] bytes = vocab.first(id);
            if (bytes != null && bytes.length > 0) {
                int s = dfa.walk(0, bytes);
                if (s >= 0) {
                    start[id >>> 6] |= 1L << id;
                    enqueue(s, allowed, queue, v);
                }
            }
        }
        if (isEmpty(start) && !dfa.isAccept(0)) {
            throw new IllegalArgumentException("no token of the model's vocabulary can start an output of " + what);
        }
        int reachable = 0;
        while (!queue.isEmpty()) {
            int state = queue.poll();
            reachable++;
            long[] mask = allowed[state];
            for (int b = 0; b < 256; b++) {
                int after = dfa.step(state, b);
                if (after < 0) {
                    continue;
                }
                for (int id : groups[b]) {
                    int s = dfa.walk(after, vocab.later(id), 1);
                    if (s >= 0) {
                        mask[id >>> 6] |= 1L << id;
                        enqueue(s, allowed, queue, v);
                    }
                }
            }
        }
        return new TokenMaskIndex(dfa, vocab, allowed, start, reachable, System.nanoTime() - t0);
    }

    private static void enqueue(int state, long[][] allowed, ArrayDeque<Integer> queue, int vocabSize) {
        if (allowed[state] == null) {
            allowed[state] = new long[(vocabSize + 63) >>> 6];
            queue.add(state);
        }
    }

    private static boolean isEmpty(long[] bits) {
        for (long w : bits) {
            if (w != 0) {
                return false;
            }
        }
        return true;
    }

    /** The tokens allowed at {@code state} ({@link #START} before the first token): bit id of word id/64. */
    long[] allowed(int state) {
        return state == START ? allowedAtStart : allowed[state];
    }

    /** Whether the output may end at {@code state}. */
    boolean isAccept(int state) {
        return dfa.isAccept(state == START ? 0 : state);
    }

    /** The state after {@code token}, or -1 when the token leaves the language. */
    int advance(int state, int token) {
        byte[] bytes = state == START ? vocab.first(token) : vocab.later(token);
        if (bytes == null || bytes.length == 0) {
            return -1;
        }
        return dfa.walk(state == START ? 0 : state, bytes);
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** Automaton states over bytes. */
    public int dfaStates() {
        return dfa.states();
    }

    /** States a token boundary can land in (those with a mask). */
    public int maskedStates() {
        return reachableStates;
    }

    public long buildNanos() {
        return buildNanos;
    }
}
