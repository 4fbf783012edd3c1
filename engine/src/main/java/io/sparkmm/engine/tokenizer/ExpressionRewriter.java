package io.sparkmm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Rewrites the inside of one jinja tag so that jinjava's expression parser reads it the way
 * jinja2 does. It works on tokens (strings stay untouched) and fixes three gaps:
 *
 * <ul>
 *   <li>Slices: jinjava has no step and its bounds are not Python's, so every
 *       {@code x[a:b:c]} becomes {@code __py_slice(x, a, b, c)} (see {@link TemplateFunctions}).
 *   <li>Keyword arguments: jinjava parses {@code k=v} at the level of {@code +}, so
 *       {@code namespace(k=messages|length - 1)} would read as {@code (k=messages|length) - 1};
 *       a compound value is therefore wrapped in parentheses.
 *   <li>Python's {@code True}, {@code False} and {@code None} become jinjava's lower-case forms,
 *       and attributes named like EL keywords ({@code x.empty}) become subscripts.
 * </ul>
 */
final class ExpressionRewriter {

    /** Words after which "(" or "[" opens a group or a list, not a call or a subscript. */
    private static final Set<String> KEYWORDS = Set.of("and", "or", "not", "in", "is", "if",
            "else", "elif", "for", "set", "with", "as", "recursive", "return", "true", "false", "none");

    /** Words of jinjava's EL grammar that jinja2 treats as ordinary names. */
    private static final Set<String> EL_RESERVED = Set.of("empty", "div", "mod", "eq", "ne", "lt",
            "gt", "le", "ge", "instanceof", "null", "true", "false", "and", "or", "not");

    private enum Kind { NAME, STRING, NUMBER, SPACE, OP }

    private record Tok(Kind kind, String text) {
        boolean is(String s) {
            return kind == Kind.OP && text.equals(s);
        }
    }

    private ExpressionRewriter() {}

    static String rewrite(String expression) {
        List<Tok> out = rewrite(tokenize(expression));
        StringBuilder sb = new StringBuilder(expression.length() + 16);
        for (Tok t : out) {
            sb.append(t.text);
        }
        return sb.toString();
    }

    private static List<Tok> rewrite(List<Tok> toks) {
        List<Tok> out = new ArrayList<>(toks.size());
        int i = 0;
        while (i < toks.size()) {
            Tok t = toks.get(i);
            if (t.is("(") || t.is("[") || t.is("{")) {
                int close = matching(toks, i);
                List<Tok> inner = toks.subList(i + 1, close);
                boolean postfix = followsOperand(out);
                if (t.is("[") && postfix && !split(inner, ":").isEmpty() && split(inner, ":").size() > 1) {
                    emitSlice(out, split(inner, ":"));
                } else if (t.is("(") && postfix) {
                    out.add(t);
                    emitArguments(out, split(inner, ","));
                    out.add(toks.get(close));
                } else {
                    out.add(t);
                    out.addAll(rewrite(inner));
                    if (close < toks.size()) {
                        out.add(toks.get(close));
                    }
                }
                i = close + 1;
                continue;
            }
            if (t.kind == Kind.NAME && previousIsDot(out) && EL_RESERVED.contains(t.text)) {
                // jinjava's EL grammar reserves these words, so "x.empty" is a syntax error there;
                // jinja2 reads it as an attribute, which x['empty'] is too.
                out.remove(out.size() - 1);
                out.add(new Tok(Kind.OP, "["));
                out.add(new Tok(Kind.STRING, "'" + t.text + "'"));
                out.add(new Tok(Kind.OP, "]"));
                i++;
                continue;
            }
            if (t.kind == Kind.NAME && !previousIsDot(out)) {
                switch (t.text) {
                    case "True" -> t = new Tok(Kind.NAME, "true");
                    case "False" -> t = new Tok(Kind.NAME, "false");
                    case "None" -> t = new Tok(Kind.NAME, "none");
                    default -> { }
                }
            }
            out.add(t);
            i++;
        }
        return out;
    }

    /** {@code base[a:b:c]} -> {@code __py_slice(base, a, b, c)}; base is taken back from out. */
    private static void emitSlice(List<Tok> out, List<List<Tok>> parts) {
        int start = primaryStart(out);
        List<Tok> base = new ArrayList<>(out.subList(start, out.size()));
        out.subList(start, out.size()).clear();
        out.add(new Tok(Kind.NAME, TemplateFunctions.SLICE_FUNCTION));
        out.add(new Tok(Kind.OP, "("));
        out.addAll(base);
        for (int p = 0; p < 3; p++) {
            out.add(new Tok(Kind.OP, ","));
            out.add(new Tok(Kind.SPACE, " "));
            List<Tok> part = p < parts.size() ? parts.get(p) : List.of();
            if (isBlank(part)) {
                out.add(new Tok(Kind.NAME, "none"));
            } else {
                out.addAll(rewrite(part));
            }
        }
        out.add(new Tok(Kind.OP, ")"));
    }

    private static void emitArguments(List<Tok> out, List<List<Tok>> args) {
        for (int a = 0; a < args.size(); a++) {
            if (a > 0) {
                out.add(new Tok(Kind.OP, ","));
            }
            List<Tok> arg = args.get(a);
            int name = firstNonSpace(arg, 0);
            int eq = name < 0 ? -1 : firstNonSpace(arg, name + 1);
            if (name >= 0 && arg.get(name).kind == Kind.NAME && eq >= 0 && arg.get(eq).is("=")) {
                List<Tok> value = arg.subList(eq + 1, arg.size());
                out.addAll(arg.subList(0, eq + 1));
                boolean compound = countNonSpace(value) > 1;
                if (compound) {
                    out.add(new Tok(Kind.OP, "("));
                }
                out.addAll(rewrite(value));
                if (compound) {
                    out.add(new Tok(Kind.OP, ")"));
                }
            } else {
                out.addAll(rewrite(arg));
            }
        }
    }

    /** Whether a "(" or "[" here continues an operand (call or subscript) rather than starting one. */
    private static boolean followsOperand(List<Tok> out) {
        if (out.isEmpty()) {
            return false;
        }
        Tok last = out.get(out.size() - 1);
        return switch (last.kind) {
            case NAME -> !KEYWORDS.contains(last.text) || previousIsDot(out.subList(0, out.size() - 1));
            case STRING -> true;
            case OP -> last.is(")") || last.is("]") || last.is("}");
            default -> false;
        };
    }

    private static boolean previousIsDot(List<Tok> out) {
        return !out.isEmpty() && out.get(out.size() - 1).is(".");
    }

    /**
     * Start index in out of the postfix expression that ends out: names, literals and bracketed
     * groups joined by dots, calls and subscripts ({@code message.content.split('x')}).
     */
    private static int primaryStart(List<Tok> out) {
        int k = out.size() - 1;
        while (k >= 0) {
            Tok t = out.get(k);
            boolean group = t.is(")") || t.is("]") || t.is("}");
            if (group) {
                k = matchingOpen(out, k);
            } else if (t.kind != Kind.NAME && t.kind != Kind.STRING && t.kind != Kind.NUMBER) {
                break;
            }
            int before = k - 1;
            if (before >= 0 && out.get(before).is(".")) {
                k = before - 1;
                continue;
            }
            if (group && before >= 0 && followsOperand(out.subList(0, k))) {
                k = before;
                continue;
            }
            return k;
        }
        return k + 1;
    }

    private static int matching(List<Tok> toks, int open) {
        int depth = 0;
        for (int i = open; i < toks.size(); i++) {
            Tok t = toks.get(i);
            if (t.is("(") || t.is("[") || t.is("{")) {
                depth++;
            } else if (t.is(")") || t.is("]") || t.is("}")) {
                depth--;
                if (depth == 0) {
                    return i;
                }
            }
        }
        return toks.size(); // unbalanced: leave the rest for jinjava to report
    }

    private static int matchingOpen(List<Tok> toks, int close) {
        int depth = 0;
        for (int i = close; i >= 0; i--) {
            Tok t = toks.get(i);
            if (t.is(")") || t.is("]") || t.is("}")) {
                depth++;
            } else if (t.is("(") || t.is("[") || t.is("{")) {
                depth--;
                if (depth == 0) {
                    return i;
                }
            }
        }
        return 0;
    }

    /** Splits at top-level occurrences of sep; an empty input gives an empty list. */
    private static List<List<Tok>> split(List<Tok> toks, String sep) {
        List<List<Tok>> parts = new ArrayList<>();
        if (toks.isEmpty()) {
            return parts;
        }
        int depth = 0;
        int from = 0;
        for (int i = 0; i < toks.size(); i++) {
            Tok t = toks.get(i);
            if (t.is("(") || t.is("[") || t.is("{")) {
                depth++;
            } else if (t.is(")") || t.is("]") || t.is("}")) {
                depth--;
            } else if (depth == 0 && t.is(sep)) {
                parts.add(toks.subList(from, i));
                from = i + 1;
            }
        }
        parts.add(toks.subList(from, toks.size()));
        return parts;
    }

    private static int firstNonSpace(List<Tok> toks, int from) {
        for (int i = from; i < toks.size(); i++) {
            if (toks.get(i).kind != Kind.SPACE) {
                return i;
            }
        }
        return -1;
    }

    private static int countNonSpace(List<Tok> toks) {
        int n = 0;
        for (Tok t : toks) {
            n += t.kind == Kind.SPACE ? 0 : 1;
        }
        return n;
    }

    private static boolean isBlank(List<Tok> toks) {
        return countNonSpace(toks) == 0;
    }

    private static List<Tok> tokenize(String s) {
        List<Tok> toks = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            int j = i + 1;
            Kind kind;
            if (c == '\'' || c == '"') {
                while (j < s.length() && s.charAt(j) != c) {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, s.length());
                kind = Kind.STRING;
            } else if (Character.isLetter(c) || c == '_') {
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                kind = Kind.NAME;
            } else if (Character.isDigit(c)) {
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.')) {
                    j++;
                }
                kind = Kind.NUMBER;
            } else if (Character.isWhitespace(c)) {
                while (j < s.length() && Character.isWhitespace(s.charAt(j))) {
                    j++;
                }
                kind = Kind.SPACE;
            } else {
                // Two-character operators matter: "==" must not look like a keyword argument's "=".
                if (j < s.length() && "=!<>".indexOf(c) >= 0 && s.charAt(j) == '=') {
                    j++;
                } else if (j < s.length() && (c == '*' || c == '/') && s.charAt(j) == c) {
                    j++;
                }
                kind = Kind.OP;
            }
            toks.add(new Tok(kind, s.substring(i, j)));
            i = j;
        }
        return toks;
    }
}
