package io.sparkmm.engine.structured;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Random;

/**
 * Random members of a {@link ByteDfa}'s language: a random walk over its transitions that may stop
 * in accepting states and, past a length budget, heads for the nearest accepting state. Every walk
 * the DFA accepts is UTF-8 (the automaton is over code points), so the bytes decode to a string.
 */
final class DfaSampler {

    private final ByteDfa dfa;
    private final int[] distance;

    DfaSampler(ByteDfa dfa) {
        this.dfa = dfa;
        this.distance = distancesToAccept(dfa);
    }

    String sample(Random rnd, int budget) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int s = 0;
        while (true) {
            if (dfa.isAccept(s) && (!dfa.hasExit(s) || rnd.nextDouble() < (out.size() > budget ? 1 : 0.15))) {
                return out.toString(StandardCharsets.UTF_8);
            }
            int[] choices = new int[256];
            int n = 0;
            for (int b = 0; b < 256; b++) {
                int t = dfa.step(s, b);
                if (t >= 0 && (out.size() <= budget || distance[t] < distance[s])) {
                    choices[n++] = b;
                }
            }
            int b = choices[rnd.nextInt(n)];
            out.write(b);
            s = dfa.step(s, b);
        }
    }

    private static int[] distancesToAccept(ByteDfa dfa) {
        int n = dfa.states();
        java.util.List<java.util.List<Integer>> into = new java.util.ArrayList<>();
        for (int s = 0; s < n; s++) {
            into.add(new java.util.ArrayList<>());
        }
        for (int s = 0; s < n; s++) {
            for (int b = 0; b < 256; b++) {
                int t = dfa.step(s, b);
                if (t >= 0) {
                    into.get(t).add(s);
                }
            }
        }
        int[] d = new int[n];
        Arrays.fill(d, Integer.MAX_VALUE);
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int s = 0; s < n; s++) {
            if (dfa.isAccept(s)) {
                d[s] = 0;
                queue.add(s);
            }
        }
        while (!queue.isEmpty()) {
            int t = queue.poll();
            for (int s : into.get(t)) {
                if (d[s] == Integer.MAX_VALUE) {
                    d[s] = d[t] + 1;
                    queue.add(s);
                }
            }
        }
        return d;
    }
}
