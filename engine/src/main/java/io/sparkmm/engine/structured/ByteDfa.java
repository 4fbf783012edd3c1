package io.sparkmm.engine.structured;

import org.apache.lucene.util.automaton.Automata;
import org.apache.lucene.util.automaton.Automaton;
import org.apache.lucene.util.automaton.MinimizationOperations;
import org.apache.lucene.util.automaton.Operations;
import org.apache.lucene.util.automaton.TooComplexToDeterminizeException;
import org.apache.lucene.util.automaton.Transition;
import org.apache.lucene.util.automaton.UTF32ToUTF8;

import java.util.Arrays;

/**
 * A minimal deterministic automaton over UTF-8 bytes with a dense transition table, made from an
 * automaton over code points (Lucene converts, determinizes and minimizes). Every state can still
 * reach an accepting one (dead states are removed), so "no transition" means "this byte leaves the
 * language". State 0 is the start.
 */
public final class ByteDfa {

    /** Lucene's determinization budget; a schema past it is refused as too complex rather than left to run. */
    static final int WORK_LIMIT = 500_000;

    /** Byte strings that are well-formed UTF-8 (RFC 3629, no surrogates, nothing past U+10FFFF). */
    private static final Automaton WELL_FORMED_UTF8 = wellFormedUtf8();

    private final int states;
    /** [state * 256 + byte] -> next state, or -1. */
    private final int[] next;
    private final boolean[] accept;

    private ByteDfa(int states, int[] next, boolean[] accept) {
        this.states = states;
        this.next = next;
        this.accept = accept;
    }

    /**
     * @param codePoints the constraint's language over Unicode code points
     * @param what how errors name the constraint
     */
    public static ByteDfa of(Automaton codePoints, String what) {
        Automaton a;
        try {
            // Lucene's conversion lets lead bytes take every continuation byte (E0 80 80 is an overlong
            // form of U+0000): keeping only well-formed UTF-8 keeps outputs decodable
            // minimal over code points first: converting a small automaton is far cheaper than
            // minimizing the large one a conversion of the raw automaton gives (40x on json_object)
            a = MinimizationOperations.minimize(codePoints, WORK_LIMIT);
            a = Operations.intersection(new UTF32ToUTF8().convert(a), WELL_FORMED_UTF8);
            a = MinimizationOperations.minimize(Operations.removeDeadStates(a), WORK_LIMIT);
            a = Operations.removeDeadStates(a);
        } catch (TooComplexToDeterminizeException e) {
            throw new IllegalArgumentException(what + " is too complex to compile (more than " + WORK_LIMIT
                    + " automaton states while determinizing); simplify it", e);
        }
        if (a.getNumStates() == 0 || Operations.isEmpty(a)) {
            throw new IllegalArgumentException(what + " matches no string at all");
        }
        int n = a.getNumStates();
        int[] next = new int[n * 256];
        Arrays.fill(next, -1);
        boolean[] accept = new boolean[n];
        Transition t = new Transition();
        for (int s = 0; s < n; s++) {
            accept[s] = a.isAccept(s);
            int count = a.initTransition(s, t);
            for (int i = 0; i < count; i++) {
                a.getNextTransition(t);
                for (int b = t.min; b <= t.max; b++) {
                    next[s * 256 + b] = t.dest;
                }
            }
        }
        return new ByteDfa(n, next, accept);
    }

    private static Automaton wellFormedUtf8() {
        Automaton tail = Automata.makeCharRange(0x80, 0xBF);
        Automaton one = Automata.makeCharRange(0x00, 0x7F);
        Automaton two = cat(Automata.makeCharRange(0xC2, 0xDF), tail);
        Automaton three = Operations.union(java.util.List.of(
                cat(Automata.makeChar(0xE0), Automata.makeCharRange(0xA0, 0xBF), tail),
                cat(Automata.makeCharRange(0xE1, 0xEC), tail, tail),
                cat(Automata.makeChar(0xED), Automata.makeCharRange(0x80, 0x9F), tail),
                cat(Automata.makeCharRange(0xEE, 0xEF), tail, tail)));
        Automaton four = Operations.union(java.util.List.of(
                cat(Automata.makeChar(0xF0), Automata.makeCharRange(0x90, 0xBF), tail, tail),
                cat(Automata.makeCharRange(0xF1, 0xF3), tail, tail, tail),
                cat(Automata.makeChar(0xF4), Automata.makeCharRange(0x80, 0x8F), tail, tail)));
        return Operations.determinize(Operations.repeat(Operations.union(java.util.List.of(one, two, three, four))),
                WORK_LIMIT);
    }

    private static Automaton cat(Automaton... parts) {
        return Operations.concatenate(java.util.Arrays.asList(parts));
    }

    public int states() {
        return states;
    }

    /** The state after {@code b} (0..255) from {@code state}, or -1 when the byte leaves the language. */
    public int step(int state, int b) {
        return next[state * 256 + b];
    }

    /** The state after all of {@code bytes}, or -1. */
    public int walk(int state, byte[] bytes) {
        return walk(state, bytes, 0);
    }

    /** The state after {@code bytes} from index {@code from} on, or -1. */
    public int walk(int state, byte[] bytes, int from) {
        for (int i = from; i < bytes.length && state >= 0; i++) {
            state = next[state * 256 + (bytes[i] & 0xff)];
        }
        return state;
    }

    public boolean isAccept(int state) {
        return accept[state];
    }

    /** Whether the whole of {@code bytes} is in the language. */
    public boolean matches(byte[] bytes) {
        int s = walk(0, bytes);
        return s >= 0 && accept[s];
    }

    /** Whether some non-empty continuation leaves {@code state} (else only stopping is possible there). */
    public boolean hasExit(int state) {
        for (int b = 0; b < 256; b++) {
            if (next[state * 256 + b] >= 0) {
                return true;
            }
        }
        return false;
    }
}
