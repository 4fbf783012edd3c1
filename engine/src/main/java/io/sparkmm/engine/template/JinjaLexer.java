package io.sparkmm.engine.template;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits the inside of a jinja2 tag into tokens the way jinja2's lexer does: Python-style string
 * literals with their escapes decoded ({@code 'a\n'}, {@code '\u00e9'}), integers with
 * underscores and 0x/0o/0b prefixes, floats, names and operators.
 */
final class JinjaLexer {

    enum Kind { NAME, STRING, INTEGER, FLOAT, OP, END }

    record Token(Kind kind, String text, Object value) {
        boolean is(String op) {
            return kind == Kind.OP && text.equals(op);
        }

        boolean isName(String name) {
            return kind == Kind.NAME && text.equals(name);
        }
    }

    private static final List<String> OPERATORS = List.of("//", "**", "==", "!=", ">=", "<=",
            "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";");

    private JinjaLexer() {}

    static List<Token> tokenize(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '\'' || c == '"') {
                i = string(s, i, out);
            } else if (c >= '0' && c <= '9') {
                i = number(s, i, out);
            } else if (Character.isLetter(c) || c == '_') {
                int j = i + 1;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                out.add(new Token(Kind.NAME, s.substring(i, j), null));
                i = j;
            } else {
                String op = null;
                for (String candidate : OPERATORS) {
                    if (s.startsWith(candidate, i)) {
                        op = candidate;
                        break;
                    }
                }
                if (op == null) {
                    throw new ChatTemplateException("chat template syntax error: unexpected char '" + c
                            + "' in '" + s + "'");
                }
                out.add(new Token(Kind.OP, op, null));
                i += op.length();
            }
        }
        out.add(new Token(Kind.END, "end of expression", null));
        return out;
    }

    private static int string(String s, int start, List<Token> out) {
        char quote = s.charAt(start);
        StringBuilder value = new StringBuilder();
        int i = start + 1;
        while (i < s.length() && s.charAt(i) != quote) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                value.append(c);
                i++;
                continue;
            }
            i = escape(s, i + 1, value);
        }
        if (i >= s.length()) {
            throw new ChatTemplateException("chat template syntax error: unclosed string in '" + s + "'");
        }
        out.add(new Token(Kind.STRING, s.substring(start, i + 1), value.toString()));
        return i + 1;
    }

    /** Python's unicode-escape decoding of one escape whose letter is at {@code i}. */
    private static int escape(String s, int i, StringBuilder value) {
        char e = s.charAt(i);
        switch (e) {
            case '\n' -> { }
            case '\\', '\'', '"' -> value.append(e);
            case 'n' -> value.append('\n');
            case 't' -> value.append('\t');
            case 'r' -> value.append('\r');
            case 'a' -> value.append('\u0007');
            case 'b' -> value.append('\b');
            case 'f' -> value.append('\f');
            case 'v' -> value.append('\u000b');
            case 'x', 'u', 'U' -> {
                int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                try {
                    value.appendCodePoint(Integer.parseInt(s.substring(i + 1, i + 1 + digits), 16));
                } catch (RuntimeException bad) {
                    throw new ChatTemplateException("chat template syntax error: bad \\" + e + " escape in '"
                            + s + "'");
                }
                return i + 1 + digits;
            }
            default -> {
                if (e >= '0' && e <= '7') {
                    int j = i;
                    while (j < s.length() && j < i + 3 && s.charAt(j) >= '0' && s.charAt(j) <= '7') {
                        j++;
                    }
                    value.appendCodePoint(Integer.parseInt(s.substring(i, j), 8));
                    return j;
                }
                // Python keeps an unknown escape as it is written.
                value.append('\\').append(e);
            }
        }
        return i + 1;
    }

    private static int number(String s, int start, List<Token> out) {
        int i = start;
        String lower = s.substring(start, Math.min(s.length(), start + 2)).toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("0x") || lower.startsWith("0o") || lower.startsWith("0b")) {
            int radix = lower.charAt(1) == 'x' ? 16 : lower.charAt(1) == 'o' ? 8 : 2;
            int j = start + 2;
            while (j < s.length() && (Character.digit(s.charAt(j), radix) >= 0 || s.charAt(j) == '_')) {
                j++;
            }
            out.add(integer(s.substring(start, j), new BigInteger(s.substring(start + 2, j).replace("_", ""), radix)));
            return j;
        }
        while (i < s.length() && (isDigit(s.charAt(i)) || s.charAt(i) == '_')) {
            i++;
        }
        boolean isFloat = false;
        if (i + 1 < s.length() && s.charAt(i) == '.' && isDigit(s.charAt(i + 1))) {
            isFloat = true;
            i++;
            while (i < s.length() && (isDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                i++;
            }
        }
        if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            int j = i + 1;
            if (j < s.length() && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
                j++;
            }
            if (j < s.length() && isDigit(s.charAt(j))) {
                isFloat = true;
                i = j;
                while (i < s.length() && (isDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                    i++;
                }
            }
        }
        String text = s.substring(start, i);
        String digits = text.replace("_", "");
        out.add(isFloat ? new Token(Kind.FLOAT, text, Double.valueOf(digits))
                : integer(text, new BigInteger(digits)));
        return i;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static Token integer(String text, BigInteger value) {
        // Python ints are unbounded; a long covers every count and index a template handles.
        return new Token(Kind.INTEGER, text, value.bitLength() < 64 ? (Object) value.longValue() : value.doubleValue());
    }
}
