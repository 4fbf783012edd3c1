package io.sparkmm.engine.structured;

import org.apache.lucene.util.automaton.Automata;
import org.apache.lucene.util.automaton.Automaton;
import org.apache.lucene.util.automaton.Operations;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The pieces of JSON text as automata over code points: literals, strings, numbers, integer
 * ranges, arrays, objects, and any value up to a nesting depth. Whitespace is bounded: at most one
 * space after a separator, as outlines bounds it, so an output cannot spend its budget on blanks.
 */
final class JsonAutomata {

    static final Automaton SPACE = Operations.optional(Automata.makeChar(' '));
    static final Automaton COMMA = cat(SPACE, lit(","), SPACE);
    static final Automaton COLON = cat(SPACE, lit(":"), SPACE);
    private static final Automaton DIGIT = Automata.makeCharRange('0', '9');
    private static final Automaton DIGITS = Operations.repeat(DIGIT, 1);
    private static final Automaton HEX = RegexCompiler.ranges(new int[][] {{'0', '9'}, {'A', 'F'}, {'a', 'f'}});
    /** One character of a JSON string: unescaped (not '"', '\\' or a control) or an escape. */
    static final Automaton STRING_CHAR = Operations.union(List.of(
            RegexCompiler.ranges(RegexCompiler.complement(new int[][] {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}})),
            cat(lit("\\"), RegexCompiler.ranges(new int[][] {{'"', '"'}, {'\\', '\\'}, {'/', '/'}, {'b', 'b'},
                    {'f', 'f'}, {'n', 'n'}, {'r', 'r'}, {'t', 't'}})),
            cat(lit("\\u"), HEX, HEX, HEX, HEX)));
    /** The characters a pattern may use unescaped inside a JSON string. */
    static final Automaton PLAIN_STRING_CHARS = Operations.repeat(
            RegexCompiler.ranges(RegexCompiler.complement(new int[][] {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}})));
    private static final Automaton NATURAL = Operations.union(lit("0"), cat(Automata.makeCharRange('1', '9'), Operations.repeat(DIGIT)));
    static final Automaton NUMBER = cat(Operations.optional(lit("-")), NATURAL,
            Operations.optional(cat(lit("."), DIGITS)),
            Operations.optional(cat(RegexCompiler.ranges(new int[][] {{'e', 'e'}, {'E', 'E'}}),
                    Operations.optional(RegexCompiler.ranges(new int[][] {{'+', '+'}, {'-', '-'}})), DIGITS)));
    static final Automaton INTEGER = cat(Operations.optional(lit("-")), NATURAL);
    static final Automaton BOOLEAN = Operations.union(lit("true"), lit("false"));
    static final Automaton NULL = lit("null");

    private JsonAutomata() {
    }

    static Automaton lit(String s) {
        return Automata.makeString(s);
    }

    static Automaton cat(Automaton... parts) {
        return Operations.concatenate(Arrays.asList(parts));
    }

    static Automaton string(int minLength, int maxLength) {
        Automaton chars = maxLength < 0 ? Operations.repeat(STRING_CHAR, minLength)
                : Operations.repeat(STRING_CHAR, minLength, maxLength);
        return cat(lit("\""), chars, lit("\""));
    }

    /** {@code [ item, item, ... ]} with between minItems and maxItems (-1: no limit) items. */
    static Automaton array(Automaton item, int minItems, int maxItems) {
        Automaton sepItem = cat(COMMA, item);
        Automaton items;
        if (maxItems == 0) {
            items = Automata.makeEmptyString();
        } else {
            Automaton rest = maxItems < 0 ? Operations.repeat(sepItem, Math.max(0, minItems - 1))
                    : Operations.repeat(sepItem, Math.max(0, minItems - 1), maxItems - 1);
            items = cat(item, rest);
            if (minItems == 0) {
                items = Operations.optional(items);
            }
        }
        return cat(lit("["), SPACE, items, SPACE, lit("]"));
    }

    /** An object of key-value pairs in the given order, each required or not, commas only between present ones. */
    static Automaton object(List<Automaton> pairs, List<Boolean> required) {
        int n = pairs.size();
        Automaton none = Automata.makeEmptyString(); // F_i: nothing emitted yet
        Automaton some = Automata.makeEmptyString(); // S_i: something emitted, so a comma comes first
        for (int i = n - 1; i >= 0; i--) {
            Automaton firstHere = cat(pairs.get(i), some);
            Automaton nextHere = cat(COMMA, pairs.get(i), some);
            Automaton newNone = required.get(i) ? firstHere : Operations.union(firstHere, none);
            Automaton newSome = required.get(i) ? nextHere : Operations.union(nextHere, some);
            none = newNone;
            some = newSome;
        }
        return cat(lit("{"), SPACE, none, SPACE, lit("}"));
    }

    /** An object whose keys are any strings and whose values match {@code value}. */
    static Automaton map(Automaton value) {
        Automaton pair = cat(string(0, -1), COLON, value);
        return cat(lit("{"), SPACE, Operations.optional(cat(pair, Operations.repeat(cat(COMMA, pair)))), SPACE, lit("}"));
    }

    /** Any JSON value with objects and arrays nested at most {@code depth} deep. */
    static Automaton anyValue(int depth) {
        List<Automaton> kinds = new ArrayList<>(List.of(string(0, -1), NUMBER, BOOLEAN, NULL));
        if (depth > 0) {
            Automaton inner = anyValue(depth - 1);
            kinds.add(map(inner));
            kinds.add(array(inner, 0, -1));
        }
        return Operations.union(kinds);
    }

    /** Any JSON object, values nested at most {@code depth} deep. */
    static Automaton anyObject(int depth) {
        return map(anyValue(depth - 1));
    }

    /**
     * Integers in [min, max] (null: unbounded) without leading zeros or "-0"; bounds must fit an int
     * (Lucene's decimal intervals take ints).
     */
    static Automaton integerRange(Long min, Long max) {
        List<Automaton> parts = new ArrayList<>();
        if (min == null || min < 0) {
            // negative values: "-" then a magnitude in [max(1, -max), -min]
            long lo = max == null || max >= 0 ? 1 : -max;
            Long hi = min == null ? null : -min;
            if (hi == null || lo <= hi) {
                parts.add(cat(lit("-"), magnitude(lo, hi)));
            }
        }
        if (max == null || max >= 0) {
            long lo = min == null || min < 0 ? 0 : min;
            if (max == null || lo <= max) {
                parts.add(magnitude(lo, max));
            }
        }
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("the integer range [" + min + ", " + max + "] is empty");
        }
        return Operations.union(parts);
    }

    /**
     * Naturals in [lo, hi] (hi null: unbounded), no leading zeros (Lucene's decimal intervals
     * accept any number of them, JSON none).
     */
    static Automaton magnitude(long lo, Long hi) {
        checkInt(lo);
        if (hi != null) {
            checkInt(hi);
            return Operations.intersection(Automata.makeDecimalInterval((int) lo, (int) (long) hi, 0), NATURAL);
        }
        int digits = Long.toString(lo).length();
        long top = (long) Math.pow(10, digits) - 1;
        checkInt(top);
        Automaton sameLength = Operations.intersection(Automata.makeDecimalInterval((int) lo, (int) top, 0), NATURAL);
        Automaton longer = cat(Automata.makeCharRange('1', '9'), Operations.repeat(DIGIT, digits));
        return Operations.union(sameLength, longer);
    }

    private static void checkInt(long v) {
        if (v > Integer.MAX_VALUE || v < 0) {
            throw new IllegalArgumentException("numeric bounds beyond " + Integer.MAX_VALUE + " are not supported");
        }
    }
}
