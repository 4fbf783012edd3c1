package io.sparkmm.engine.structured;

import org.apache.lucene.util.automaton.Automata;
import org.apache.lucene.util.automaton.Automaton;
import org.apache.lucene.util.automaton.Operations;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

import static io.sparkmm.engine.structured.JsonAutomata.cat;
import static io.sparkmm.engine.structured.JsonAutomata.lit;

/**
 * JSON numbers (no exponent) within decimal bounds, each inclusive or exclusive: the sign, then a
 * magnitude whose integer part is bounded by integer ranges and whose fraction, where the integer
 * part sits on a bound, is compared digit by digit with the bound's fraction (a missing digit counts
 * as 0, so "1.5" and "1.50" compare equal).
 */
final class NumberRanges {

    /** One end of a range: its value and whether the value itself is in. */
    record Bound(BigDecimal value, boolean inclusive) {
    }

    private static final Automaton DIGIT = Automata.makeCharRange('0', '9');
    private static final Automaton ANY_DIGITS = Operations.repeat(DIGIT);
    private static final Automaton SOME_NONZERO = cat(ANY_DIGITS, Automata.makeCharRange('1', '9'), ANY_DIGITS);
    private static final Automaton ZEROS = Operations.repeat(lit("0"));

    private NumberRanges() {
    }

    /** Numbers in the range (a null bound is open); empty ranges are an IllegalArgumentException. */
    static Automaton between(Bound lower, Bound upper) {
        List<Automaton> parts = new ArrayList<>();
        boolean negativeAllowed = lower == null || lower.value().signum() < 0;
        boolean positiveAllowed = upper == null || upper.value().signum() > 0
                || (upper.value().signum() == 0 && upper.inclusive());
        if (positiveAllowed) {
            Bound lo = lower == null || lower.value().signum() < 0 ? new Bound(BigDecimal.ZERO, true) : lower;
            Automaton m = magnitude(lo, upper);
            if (m != null) {
                parts.add(m);
            }
        }
        if (negativeAllowed) {
            // x = -m: a <= x <= b  <=>  -b <= m <= -a
            Bound lo = upper == null || upper.value().signum() > 0 ? new Bound(BigDecimal.ZERO, true)
                    : new Bound(upper.value().negate(), upper.inclusive());
            Bound hi = lower == null ? null : new Bound(lower.value().negate(), lower.inclusive());
            Automaton m = magnitude(lo, hi);
            if (m != null) {
                parts.add(cat(lit("-"), m));
            }
        }
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("the number range " + describe(lower, upper) + " is empty");
        }
        return Operations.union(parts);
    }

    /** Magnitudes m >= 0 with lo <= m <= hi (as bounded), written I or I.F; null when none. */
    private static Automaton magnitude(Bound lo, Bound hi) {
        long loInt = integerPart(lo.value());
        String loFraction = fractionDigits(lo.value());
        List<Automaton> parts = new ArrayList<>();
        if (hi == null) {
            parts.add(cat(JsonAutomata.magnitude(loInt, loInt), fraction(atLeast(loFraction, !lo.inclusive()))));
            parts.add(cat(JsonAutomata.magnitude(loInt + 1, null), fraction(ANY_DIGITS)));
        } else {
            long hiInt = integerPart(hi.value());
            String hiFraction = fractionDigits(hi.value());
            if (loInt == hiInt) {
                Automaton f = Operations.intersection(atLeast(loFraction, !lo.inclusive()), atMost(hiFraction, !hi.inclusive()));
                parts.add(cat(JsonAutomata.magnitude(loInt, loInt), fraction(f)));
            } else if (loInt < hiInt) {
                parts.add(cat(JsonAutomata.magnitude(loInt, loInt), fraction(atLeast(loFraction, !lo.inclusive()))));
                if (loInt + 1 <= hiInt - 1) {
                    parts.add(cat(JsonAutomata.magnitude(loInt + 1, hiInt - 1), fraction(ANY_DIGITS)));
                }
                parts.add(cat(JsonAutomata.magnitude(hiInt, hiInt), fraction(atMost(hiFraction, !hi.inclusive()))));
            }
        }
        Automaton all = parts.isEmpty() ? Automata.makeEmpty() : Operations.union(parts);
        return Operations.isEmpty(all) ? null : all;
    }

    /** The written fraction: nothing, or '.' and at least one digit, with digits in {@code digits}. */
    private static Automaton fraction(Automaton digits) {
        List<Automaton> out = new ArrayList<>();
        // Lucene automata have no empty moves: the empty string is in iff the start state accepts
        if (digits.getNumStates() > 0 && digits.isAccept(0)) {
            out.add(Automata.makeEmptyString());
        }
        Automaton some = Operations.intersection(digits, Operations.repeat(DIGIT, 1));
        if (!Operations.isEmpty(some)) {
            out.add(cat(lit("."), some));
        }
        return out.isEmpty() ? Automata.makeEmpty() : Operations.union(out);
    }

    /** Digit strings D with 0.D >= 0.b (or > when strict); b has no trailing zeros. */
    static Automaton atLeast(String b, boolean strict) {
        Automaton tail = strict ? SOME_NONZERO : ANY_DIGITS;
        for (int i = b.length() - 1; i >= 0; i--) {
            int d = b.charAt(i);
            List<Automaton> options = new ArrayList<>();
            if (d < '9') {
                options.add(cat(Automata.makeCharRange(d + 1, '9'), ANY_DIGITS));
            }
            options.add(cat(Automata.makeChar(d), tail));
            tail = Operations.union(options);
        }
        return tail;
    }

    /** Digit strings D with 0.D <= 0.b (or < when strict); b has no trailing zeros. */
    static Automaton atMost(String b, boolean strict) {
        Automaton tail = strict ? Automata.makeEmpty() : ZEROS;
        for (int i = b.length() - 1; i >= 0; i--) {
            int d = b.charAt(i);
            List<Automaton> options = new ArrayList<>();
            if (d > '0') {
                options.add(cat(Automata.makeCharRange('0', d - 1), ANY_DIGITS));
            }
            options.add(cat(Automata.makeChar(d), tail));
            // stopping here reads as zeros from here on, below the rest of b (which ends in a nonzero digit)
            options.add(Automata.makeEmptyString());
            tail = Operations.union(options);
        }
        return tail;
    }

    private static long integerPart(BigDecimal v) {
        BigDecimal floor = v.setScale(0, RoundingMode.FLOOR);
        if (floor.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("numeric bounds beyond " + Integer.MAX_VALUE + " are not supported");
        }
        return floor.longValueExact();
    }

    /** The digits after the point of a non-negative value, without trailing zeros ("" for an integer). */
    private static String fractionDigits(BigDecimal v) {
        BigDecimal f = v.subtract(v.setScale(0, RoundingMode.FLOOR)).stripTrailingZeros();
        if (f.signum() == 0) {
            return "";
        }
        String s = f.toPlainString();
        return s.substring(s.indexOf('.') + 1);
    }

    private static String describe(Bound lower, Bound upper) {
        return (lower == null ? "(-inf" : (lower.inclusive() ? "[" : "(") + lower.value().toPlainString()) + ", "
                + (upper == null ? "+inf)" : upper.value().toPlainString() + (upper.inclusive() ? "]" : ")"));
    }
}
