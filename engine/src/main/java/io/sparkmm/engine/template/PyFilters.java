package io.sparkmm.engine.template;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * jinja2's filters with jinja2's semantics ({@code jinja2/filters.py}), as templates use them:
 * string filters take {@code str()} of their input ({@code None|trim} is "None", a list prints
 * as Python prints it), {@code default} replaces only Undefined, {@code length} of None raises.
 * Collection filters are in {@link PyCollectionFilters}; a filter neither knows is refused.
 */
final class PyFilters {

    /** jinja2's do_title splits at the edges of runs of these characters. */
    private static final String BREAKS = "[-\\s({\\[<]";
    private static final Pattern WORD_BEGINNING = Pattern.compile(
            "(?<=" + BREAKS + ")(?!" + BREAKS + ")|(?<!" + BREAKS + ")(?=" + BREAKS + ")");

    /** Python's {@code \\w+}: Unicode letters, digits and the underscore. */
    private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);

    private PyFilters() {}

    /** Positional and keyword arguments bound Python-style: by position, else by name. */
    record Args(String filter, List<?> positional, Map<String, ?> keywords) {
        Object get(int index, String name, Object fallback) {
            if (index < positional.size()) {
                return positional.get(index);
            }
            return keywords.containsKey(name) ? keywords.get(name) : fallback;
        }

        Object required(int index, String name) {
            if (index >= positional.size() && !keywords.containsKey(name)) {
                throw new ChatTemplateException(filter + "() missing required argument '" + name + "'");
            }
            return get(index, name, null);
        }

        List<?> from(int index) {
            return index < positional.size() ? positional.subList(index, positional.size()) : List.of();
        }
    }

    static Object filter(String name, Object value, List<?> positional, Map<String, ?> keywords) {
        Args a = new Args(name, positional, keywords);
        return switch (name) {
            case "trim" -> PyStrings.strip(PyRepr.str(value), str(a.get(0, "chars", null)), true, true);
            case "string" -> PyRepr.str(value);
            case "upper" -> PyStrings.call(PyRepr.str(value), "upper", new Object[0]);
            case "lower" -> PyStrings.call(PyRepr.str(value), "lower", new Object[0]);
            case "capitalize" -> PyStrings.call(PyRepr.str(value), "capitalize", new Object[0]);
            case "title" -> title(PyRepr.str(value));
            case "replace" -> PyStrings.call(PyRepr.str(value), "replace", a.get(2, "count", null) == null
                    ? new Object[] {a.required(0, "old"), a.required(1, "new")}
                    : new Object[] {a.required(0, "old"), a.required(1, "new"), a.get(2, "count", null)});
            case "indent" -> indent(PyRepr.str(value), a.get(0, "width", 4L), PyOps.truthy(a.get(1, "first", false)),
                    PyOps.truthy(a.get(2, "blank", false)));
            case "format" -> PyFormat.percent(PyRepr.str(value), a.keywords().isEmpty()
                    ? new PyTuple(a.positional()) : a.keywords());
            case "safe" -> value;
            case "escape", "e" -> escape(value);
            case "default", "d" -> value instanceof PyUndefined
                    || (PyOps.truthy(a.get(1, "boolean", false)) && !PyOps.truthy(value))
                    ? a.get(0, "default_value", "") : value;
            case "tojson" -> tojson(value, a);
            case "int" -> toInt(value, a);
            case "float" -> toFloat(value, a.get(0, "default", 0.0));
            case "abs" -> abs(value);
            case "attr" -> PyAccess.attribute(value, String.valueOf(a.required(0, "name")));
            case "wordcount" -> (long) WORD.matcher(PyRepr.str(value)).results().count();
            default -> PyCollectionFilters.filter(a, value);
        };
    }

    static String str(Object v) {
        return v == null ? null : PyRepr.str(v);
    }

    /** jinja2's title: every word's first character upper, the rest lower. */
    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        for (String item : WORD_BEGINNING.split(s)) {
            if (!item.isEmpty()) {
                int first = item.codePointAt(0);
                sb.append(new String(Character.toChars(first)).toUpperCase(java.util.Locale.ROOT))
                        .append(item.substring(Character.charCount(first)).toLowerCase(java.util.Locale.ROOT));
            }
        }
        return sb.toString();
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        String indention = PyOps.isStr(width) ? width.toString() : " ".repeat((int) PyOps.asLong(width));
        @SuppressWarnings("unchecked")
        List<String> lines = new ArrayList<>((List<String>) PyStrings.call(s + "\n", "splitlines", new Object[0]));
        String rv;
        if (blank) {
            rv = String.join("\n" + indention, lines);
        } else {
            StringBuilder sb = new StringBuilder(lines.remove(0));
            for (String line : lines) {
                sb.append('\n').append(line.isEmpty() ? line : indention + line);
            }
            rv = sb.toString();
        }
        return first ? indention + rv : rv;
    }

    private static String escape(Object value) {
        return PyRepr.str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&#34;").replace("'", "&#39;");
    }

    /** transformers' tojson: json.dumps(x, ensure_ascii=False, indent, separators, sort_keys). */
    private static String tojson(Object value, Args a) {
        Object indent = a.get(1, "indent", null);
        Object separators = a.get(2, "separators", null);
        String item = null;
        String key = null;
        if (separators instanceof List<?> seps && seps.size() == 2) {
            item = String.valueOf(seps.get(0));
            key = String.valueOf(seps.get(1));
        }
        return new PyJson(indent == null ? null : (int) TemplateFunctions.toLong(indent, "tojson indent"),
                PyOps.truthy(a.get(3, "sort_keys", false)), PyOps.truthy(a.get(0, "ensure_ascii", false)), item, key)
                .dumps(value);
    }

    private static Object toInt(Object value, Args a) {
        Object fallback = a.get(0, "default", 0L);
        try {
            if (PyOps.isStr(value)) {
                String s = value.toString().strip().replace("_", "");
                return Long.parseLong(s, (int) PyOps.asLong(a.get(1, "base", 10L)));
            }
            if (PyOps.isNumber(value)) {
                return PyOps.isInt(value) ? PyOps.asLong(value) : (long) PyOps.asDouble(value);
            }
        } catch (NumberFormatException e) {
            Object f = toFloat(value, null);
            return f == null ? fallback : (long) (double) (Double) f;
        }
        return fallback;
    }

    private static Object toFloat(Object value, Object fallback) {
        if (PyOps.isNumber(value)) {
            return PyOps.asDouble(value);
        }
        if (PyOps.isStr(value)) {
            try {
                return Double.parseDouble(value.toString().strip());
            } catch (NumberFormatException e) {
                return fallback;
            }
        }
        return fallback;
    }

    private static Object abs(Object v) {
        if (PyOps.isInt(v)) {
            return Math.abs(PyOps.asLong(v));
        }
        if (PyOps.isNumber(v)) {
            return Math.abs(PyOps.asDouble(v));
        }
        throw new ChatTemplateException("bad operand type for abs(): '" + PyTypes.name(v) + "'");
    }

    /** len() as jinja2's length filter takes it; Undefined has length 0. */
    static long length(Object v) {
        if (v instanceof PyUndefined) {
            return 0;
        }
        if (PyOps.isStr(v)) {
            String s = v.toString();
            return s.codePointCount(0, s.length());
        }
        if (v instanceof Collection<?> c) {
            return c.size();
        }
        if (v instanceof Map<?, ?> m) {
            return m.size();
        }
        throw new ChatTemplateException("object of type '" + PyTypes.name(v) + "' has no len()");
    }
}
