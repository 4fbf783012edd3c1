package io.sparkmm.engine.template;

import com.hubspot.jinjava.objects.SafeString;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;

/**
 * Python's {@code str()} and {@code repr()} of template values, which is what jinja2 prints:
 * {@code ['a', 'b']}, {@code {'k': 1}}, {@code True}, {@code None}, {@code 2.0}. A template that
 * prints a list (say, content given as parts to a template that expects a string) must put the
 * same characters into the prompt as Python does, or the token ids differ.
 */
final class PyRepr {

    private PyRepr() {}

    /** Python's {@code str(value)}; Undefined is the empty string, as jinja2 prints it. */
    static String str(Object value) {
        if (value instanceof CharSequence || value instanceof SafeString) {
            return value.toString();
        }
        if (value instanceof PyUndefined) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        repr(sb, value);
        return sb.toString();
    }

    /** Python's {@code repr(value)}. */
    static String repr(Object value) {
        StringBuilder sb = new StringBuilder();
        repr(sb, value);
        return sb.toString();
    }

    private static void repr(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("None");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "True" : "False");
        } else if (v instanceof Double || v instanceof Float) {
            sb.append(floatStr(((Number) v).doubleValue()));
        } else if (v instanceof Number n) {
            sb.append(n);
        } else if (v instanceof CharSequence || v instanceof SafeString) {
            string(sb, v.toString());
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                repr(sb, e.getKey());
                sb.append(": ");
                repr(sb, e.getValue());
                if (it.hasNext()) {
                    sb.append(", ");
                }
            }
            sb.append('}');
        } else if (v instanceof PyTuple t) {
            sb.append('(');
            for (int i = 0; i < t.size(); i++) {
                repr(sb, t.get(i));
                sb.append(i + 1 < t.size() ? ", " : t.size() == 1 ? "," : "");
            }
            sb.append(')');
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            Iterator<?> it = c.iterator();
            while (it.hasNext()) {
                repr(sb, it.next());
                if (it.hasNext()) {
                    sb.append(", ");
                }
            }
            sb.append(']');
        } else if (v instanceof PyUndefined) {
            sb.append("Undefined");
        } else {
            sb.append(v);
        }
    }

    /** Python's str/repr of a float: shortest round-trip digits, "inf", "nan". */
    static String floatStr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        return PyJson.floatRepr(d);
    }

    /** Python's repr of a str: prefers single quotes, escapes what is not printable. */
    private static void string(StringBuilder sb, String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(quote);
        s.codePoints().forEach(cp -> {
            if (cp == quote || cp == '\\') {
                sb.append('\\').appendCodePoint(cp);
            } else if (cp == '\t') {
                sb.append("\\t");
            } else if (cp == '\n') {
                sb.append("\\n");
            } else if (cp == '\r') {
                sb.append("\\r");
            } else if (cp < 0x20 || cp == 0x7f) {
                sb.append(String.format("\\x%02x", cp));
            } else if (cp < 0x7f || isPrintable(cp)) {
                sb.appendCodePoint(cp);
            } else if (cp <= 0xff) {
                sb.append(String.format("\\x%02x", cp));
            } else if (cp <= 0xffff) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.append(String.format("\\U%08x", cp));
            }
        });
        sb.append(quote);
    }

    /** Python's {@code str.isprintable} for one code point beyond ASCII. */
    private static boolean isPrintable(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }
}
