package io.sparkmm.engine.template;

import com.hubspot.jinjava.objects.SafeString;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} as transformers' {@code tojson} filter calls it
 * ({@code ensure_ascii=False} by default): {@code ", "} and {@code ": "} separators without
 * indent, {@code ","} with it, Python's float repr ({@code 1e+16}, {@code 2.0}) and escapes.
 * Tool schemas rendered into prompts must match Python byte for byte, or the token ids differ.
 */
final class PyJson {

    private final Integer indent;
    private final boolean sortKeys;
    private final boolean ensureAscii;
    private final String itemSeparator;
    private final String keySeparator;

    PyJson(Integer indent, boolean sortKeys, boolean ensureAscii) {
        this(indent, sortKeys, ensureAscii, null, null);
    }

    /** {@code itemSeparator}/{@code keySeparator} null: json.dumps' defaults for the indent. */
    PyJson(Integer indent, boolean sortKeys, boolean ensureAscii, String itemSeparator, String keySeparator) {
        this.indent = indent;
        this.sortKeys = sortKeys;
        this.ensureAscii = ensureAscii;
        this.itemSeparator = itemSeparator != null ? itemSeparator : indent == null ? ", " : ",";
        this.keySeparator = keySeparator != null ? keySeparator : ": ";
    }

    String dumps(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    private void write(StringBuilder sb, Object v, int level) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            sb.append(floatRepr(((Number) v).doubleValue()));
        } else if (v instanceof BigDecimal d) {
            sb.append(floatRepr(d.doubleValue()));
        } else if (v instanceof Number n) {
            sb.append(n.toString());
        } else if (v instanceof CharSequence || v instanceof SafeString) {
            string(sb, v.toString());
        } else if (v instanceof Map<?, ?> m) {
            object(sb, m, level);
        } else if (v instanceof Collection<?> c) {
            array(sb, new ArrayList<>(c), level);
        } else if (v instanceof Object[] a) {
            array(sb, List.of(a), level);
        } else {
            throw new ChatTemplateException("Object of type " + PyTypes.name(v)
                    + " is not JSON serializable");
        }
    }

    private void object(StringBuilder sb, Map<?, ?> m, int level) {
        if (m.isEmpty()) {
            sb.append("{}");
            return;
        }
        List<Map.Entry<String, Object>> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            entries.add(Map.entry(key(e.getKey()), e.getValue() == null ? NULL : e.getValue()));
        }
        if (sortKeys) {
            entries.sort(Map.Entry.comparingByKey());
        }
        sb.append('{');
        for (int i = 0; i < entries.size(); i++) {
            separator(sb, i, level + 1);
            string(sb, entries.get(i).getKey());
            sb.append(keySeparator);
            Object value = entries.get(i).getValue();
            write(sb, value == NULL ? null : value, level + 1);
        }
        closing(sb, level);
        sb.append('}');
    }

    private static final Object NULL = new Object();

    private void array(StringBuilder sb, List<?> items, int level) {
        if (items.isEmpty()) {
            sb.append("[]");
            return;
        }
        sb.append('[');
        for (int i = 0; i < items.size(); i++) {
            separator(sb, i, level + 1);
            write(sb, items.get(i), level + 1);
        }
        closing(sb, level);
        sb.append(']');
    }

    private void separator(StringBuilder sb, int i, int level) {
        if (i > 0) {
            sb.append(itemSeparator);
        }
        if (indent != null) {
            sb.append('\n').append(" ".repeat(indent * level));
        }
    }

    private void closing(StringBuilder sb, int level) {
        if (indent != null) {
            sb.append('\n').append(" ".repeat(indent * level));
        }
    }

    /** Python turns non-string keys into strings: 1 -> "1", True -> "true", None -> "null". */
    private static String key(Object k) {
        if (k == null) {
            return "null";
        }
        if (k instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (k instanceof Double || k instanceof Float) {
            return floatRepr(((Number) k).doubleValue());
        }
        return k.toString();
    }

    private void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /**
     * Python's {@code repr(float)}: the shortest digits that round-trip, in positional notation
     * when the decimal exponent is in [-4, 16), otherwise as {@code d.ddde+XX}.
     */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int decpt = digits.length() - bd.scale(); // value = 0.DIGITS * 10^decpt
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                sb.append("0.").append("0".repeat(-decpt)).append(digits);
            } else if (decpt >= digits.length()) {
                sb.append(digits).append("0".repeat(decpt - digits.length())).append(".0");
            } else {
                sb.append(digits, 0, decpt).append('.').append(digits.substring(decpt));
            }
        } else {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) {
                sb.append('.').append(digits.substring(1));
            }
            int exp = decpt - 1;
            sb.append('e').append(exp < 0 ? '-' : '+');
            String e = Integer.toString(Math.abs(exp));
            sb.append(e.length() < 2 ? "0" + e : e);
        }
        return sb.toString();
    }
}
