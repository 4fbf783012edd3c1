package io.sparkmm.engine.structured;

import org.apache.lucene.util.automaton.Automata;
import org.apache.lucene.util.automaton.Automaton;
import org.apache.lucene.util.automaton.Operations;

import java.util.ArrayList;
import java.util.List;

/**
 * A regular expression in the common syntax of Python's {@code re} and {@code java.util.regex}
 * (what vLLM's {@code regex} constraint takes) to an automaton over Unicode code points that accepts
 * exactly the strings the pattern matches in full. The automaton operations are Lucene's; this
 * class is only the parser, because Lucene's own regex syntax differs (quotes, {@code @}, {@code <>}
 * are operators there).
 *
 * <p>Supported: literals and escapes ({@code \n \t \r \f \v \0 \xHH \\uHHHH}, escaped punctuation),
 * {@code .} (any code point but newline), classes {@code [a-z_] [^...]} with {@code \d \w \s} and
 * their negations inside or outside classes, groups {@code (...)}, {@code (?:...)} and named groups,
 * alternation, quantifiers {@code * + ? {n} {n,} {n,m}} (lazy and possessive suffixes are accepted:
 * they change which match a search finds, not which strings match in full), and {@code ^}/{@code $}
 * at the very start/end. Back-references, look-around, word boundaries and inline flags are
 * refused with an error naming them: they are not regular or not meaningful for a full match.
 */
public final class RegexCompiler {

    /** {@code \w} as Python 3's str patterns and Java's UNICODE_CHARACTER_CLASS disagree on; ASCII, as outlines uses. */
    private static final int[][] WORD = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    private static final int[][] DIGIT = {{'0', '9'}};
    private static final int[][] SPACE = {{'\t', '\r'}, {' ', ' '}};
    private static final int MAX_CODE_POINT = Character.MAX_CODE_POINT;
    /** Bounded repeats expand into copies; a limit keeps a typo like {1,100000} from exhausting memory. */
    static final int MAX_REPEAT = 1000;

    private final String pattern;
    private int pos;

    private RegexCompiler(String pattern) {
        this.pattern = pattern;
    }

    /** The automaton of {@code pattern}; an IllegalArgumentException names the position and the problem. */
    public static Automaton compile(String pattern) {
        RegexCompiler c = new RegexCompiler(pattern);
        if (c.peekIs('^')) {
            c.pos++;
        }
        Automaton a = c.alternation();
        if (c.pos < pattern.length()) {
            throw c.error("unbalanced ')'");
        }
        return a;
    }

    private Automaton alternation() {
        List<Automaton> branches = new ArrayList<>();
        branches.add(concatenation());
        while (peekIs('|')) {
            pos++;
            branches.add(concatenation());
        }
        return branches.size() == 1 ? branches.get(0) : Operations.union(branches);
    }

    private Automaton concatenation() {
        List<Automaton> parts = new ArrayList<>();
        while (pos < pattern.length() && !peekIs('|') && !peekIs(')')) {
            if (peekIs('$') && pos == pattern.length() - 1) {
                pos++;
                break;
            }
            parts.add(quantified(atom()));
        }
        return parts.isEmpty() ? Automata.makeEmptyString() : Operations.concatenate(parts);
    }

    private Automaton quantified(Automaton atom) {
        while (pos < pattern.length()) {
            char c = pattern.charAt(pos);
            int min;
            int max;
            if (c == '*') {
                min = 0;
                max = -1;
                pos++;
            } else if (c == '+') {
                min = 1;
                max = -1;
                pos++;
            } else if (c == '?') {
                min = 0;
                max = 1;
                pos++;
            } else if (c == '{' && isCountedRepeat()) {
                pos++;
                min = number();
                max = min;
                if (peekIs(',')) {
                    pos++;
                    max = peekIs('}') ? -1 : number();
                }
                expect('}');
                if (max >= 0 && max < min) {
                    throw error("repeat {" + min + "," + max + "} has max < min");
                }
                if (Math.max(min, max) > MAX_REPEAT) {
                    throw error("repeat count above " + MAX_REPEAT);
                }
            } else {
                return atom;
            }
            if (peekIs('?') || peekIs('+')) {
                pos++; // lazy or possessive: the same full-match language
            }
            atom = max < 0 ? Operations.repeat(atom, min) : Operations.repeat(atom, min, max);
        }
        return atom;
    }

    /** Python and Java read '{' literally unless it starts {n}, {n,} or {n,m}. */
    private boolean isCountedRepeat() {
        int i = pos + 1;
        int digits = 0;
        while (i < pattern.length() && Character.isDigit(pattern.charAt(i))) {
            i++;
            digits++;
        }
        if (digits == 0) {
            return false;
        }
        if (i < pattern.length() && pattern.charAt(i) == ',') {
            i++;
            while (i < pattern.length() && Character.isDigit(pattern.charAt(i))) {
                i++;
            }
        }
        return i < pattern.length() && pattern.charAt(i) == '}';
    }

    private Automaton atom() {
        int c = pattern.codePointAt(pos);
        switch (c) {
            case '(' -> {
                pos++;
                if (peekIs('?')) {
                    group();
                }
                Automaton inner = alternation();
                expect(')');
                return inner;
            }
            case '[' -> {
                return ranges(charClass());
            }
            case '.' -> {
                pos++;
                return ranges(complement(new int[][] {{'\n', '\n'}}));
            }
            case '\\' -> {
                pos++;
                int[][] cls = escapeClass();
                if (cls != null) {
                    return ranges(cls);
                }
                return Automata.makeChar(escapedChar());
            }
            case '*', '+', '?' -> throw error("nothing to repeat before '" + (char) c + "'");
            case '^' -> throw error("'^' is only supported at the start of the pattern");
            case '$' -> throw error("'$' is only supported at the end of the pattern");
            default -> {
                pos += Character.charCount(c);
                return Automata.makeChar(c);
            }
        }
    }

    /** After "(?": a non-capturing or named group is fine; anything else is refused by name. */
    private void group() {
        pos++;
        if (peekIs(':')) {
            pos++;
            return;
        }
        if (peekIs('P') && pos + 1 < pattern.length() && pattern.charAt(pos + 1) == '<') {
            pos++;
        }
        if (peekIs('<') && pos + 1 < pattern.length() && pattern.charAt(pos + 1) != '=' && pattern.charAt(pos + 1) != '!') {
            int end = pattern.indexOf('>', pos);
            if (end < 0) {
                throw error("unterminated group name");
            }
            pos = end + 1;
            return;
        }
        String what = peekIs('=') || peekIs('!') ? "look-ahead" : peekIs('<') ? "look-behind"
                : peekIs('P') ? "named back-reference" : "inline flags or other (?...) groups";
        throw error(what + " is not supported in a structured-output regex");
    }

    /** Inside '[': the ranges of the class, negated when it starts with '^'. */
    private int[][] charClass() {
        pos++;
        boolean negate = peekIs('^');
        if (negate) {
            pos++;
        }
        List<int[]> ranges = new ArrayList<>();
        boolean first = true;
        while (pos < pattern.length() && (first || !peekIs(']'))) {
            first = false;
            int lo;
            if (peekIs('\\')) {
                pos++;
                int[][] cls = escapeClass();
                if (cls != null) {
                    for (int[] r : cls) {
                        ranges.add(r);
                    }
                    continue;
                }
                lo = escapedChar();
            } else if (peekIs('[') && pos + 1 < pattern.length() && pattern.charAt(pos + 1) == ':') {
                throw error("POSIX classes like [:alpha:] are not supported; write the ranges");
            } else {
                lo = pattern.codePointAt(pos);
                pos += Character.charCount(lo);
            }
            int hi = lo;
            if (peekIs('-') && pos + 1 < pattern.length() && pattern.charAt(pos + 1) != ']') {
                pos++;
                if (peekIs('\\')) {
                    pos++;
                    if (escapeClass() != null) {
                        throw error("a class escape cannot end a range");
                    }
                    hi = escapedChar();
                } else {
                    hi = pattern.codePointAt(pos);
                    pos += Character.charCount(hi);
                }
                if (hi < lo) {
                    throw error("bad range " + new String(Character.toChars(lo)) + "-" + new String(Character.toChars(hi)));
                }
            }
            ranges.add(new int[] {lo, hi});
        }
        expect(']');
        int[][] out = ranges.toArray(new int[0][]);
        return negate ? complement(out) : out;
    }

    /** After '\\': the ranges of \d \w \s \D \W \S, or null for a single-character escape. */
    private int[][] escapeClass() {
        if (pos >= pattern.length()) {
            throw error("pattern ends with '\\'");
        }
        int[][] cls = switch (pattern.charAt(pos)) {
            case 'd' -> DIGIT;
            case 'w' -> WORD;
            case 's' -> SPACE;
            case 'D' -> complement(DIGIT);
            case 'W' -> complement(WORD);
            case 'S' -> complement(SPACE);
            default -> null;
        };
        if (cls != null) {
            pos++;
        }
        return cls;
    }

    /** After '\\': the code point of a single-character escape. */
    private int escapedChar() {
        char c = pattern.charAt(pos++);
        switch (c) {
            case 'n':
                return '\n';
            case 't':
                return '\t';
            case 'r':
                return '\r';
            case 'f':
                return '\f';
            case 'v':
                return 0x0B;
            case '0':
                return 0;
            case 'x':
                return hex(2);
            case 'u':
                return hex(4);
            case 'b', 'B', 'A', 'Z', 'z', 'G':
                throw error("the anchor \\" + c + " is not supported in a structured-output regex");
            default:
                if (Character.isDigit(c)) {
                    throw error("back-references (\\" + c + ") are not supported: they are not regular");
                }
                if (Character.isLetter(c)) {
                    throw error("unknown escape \\" + c);
                }
                return c;
        }
    }

    private int hex(int digits) {
        if (pos + digits > pattern.length()) {
            throw error("truncated hex escape");
        }
        try {
            int v = Integer.parseInt(pattern.substring(pos, pos + digits), 16);
            pos += digits;
            return v;
        } catch (NumberFormatException e) {
            throw error("bad hex escape");
        }
    }

    private int number() {
        int start = pos;
        while (pos < pattern.length() && Character.isDigit(pattern.charAt(pos))) {
            pos++;
        }
        if (start == pos) {
            throw error("expected a number");
        }
        try {
            return Integer.parseInt(pattern.substring(start, pos));
        } catch (NumberFormatException e) {
            throw error("repeat count too large");
        }
    }

    /** The union of code-point ranges. */
    static Automaton ranges(int[][] ranges) {
        List<Automaton> parts = new ArrayList<>();
        for (int[] r : ranges) {
            parts.add(Automata.makeCharRange(r[0], r[1]));
        }
        return parts.size() == 1 ? parts.get(0) : Operations.union(parts);
    }

    /**
     * The code points outside {@code ranges}, surrogates excluded: they are no characters, and
     * their UTF-8 forms would let a constraint produce bytes that are not UTF-8.
     */
    static int[][] complement(int[][] ranges) {
        int[][] sorted = java.util.Arrays.copyOf(ranges, ranges.length + 1);
        sorted[ranges.length] = new int[] {0xD800, 0xDFFF};
        java.util.Arrays.sort(sorted, (a, b) -> Integer.compare(a[0], b[0]));
        List<int[]> out = new ArrayList<>();
        int next = 0;
        for (int[] r : sorted) {
            if (r[0] > next) {
                out.add(new int[] {next, r[0] - 1});
            }
            next = Math.max(next, r[1] + 1);
        }
        if (next <= MAX_CODE_POINT) {
            out.add(new int[] {next, MAX_CODE_POINT});
        }
        return out.toArray(new int[0][]);
    }

    private boolean peekIs(char c) {
        return pos < pattern.length() && pattern.charAt(pos) == c;
    }

    private void expect(char c) {
        if (!peekIs(c)) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("regex " + quote(pattern) + " at position " + pos + ": " + what);
    }

    static String quote(String s) {
        return '"' + (s.length() > 80 ? s.substring(0, 77) + "..." : s) + '"';
    }
}
