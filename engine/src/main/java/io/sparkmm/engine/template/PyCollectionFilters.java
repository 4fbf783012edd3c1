package io.sparkmm.engine.template;

import io.sparkmm.engine.template.PyFilters.Args;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * jinja2's filters over sequences and dicts ({@code length}, {@code join}, {@code map},
 * {@code selectattr}, {@code sort}, ...) with jinja2's semantics: {@code join} stringifies its
 * items, {@code map} and {@code select} of a falsy value give nothing, {@code first} of an empty
 * list is Undefined.
 */
final class PyCollectionFilters {

    private PyCollectionFilters() {}

    static Object filter(Args a, Object value) {
        return switch (a.filter()) {
            case "length", "count" -> PyFilters.length(value);
            case "list" -> PyOps.iterate(value);
            case "first" -> {
                List<Object> items = PyOps.iterate(value);
                yield items.isEmpty() ? PyUndefined.value() : items.get(0);
            }
            case "last" -> {
                List<Object> items = reversed(value);
                yield items.isEmpty() ? PyUndefined.value() : items.get(0);
            }
            case "reverse" -> PyOps.isStr(value) ? new StringBuilder(value.toString()).reverse().toString()
                    : reversed(value);
            case "join" -> join(a, value);
            case "items" -> items(value);
            case "map" -> map(a, value);
            case "select", "reject" -> select(a, value, null, "select".equals(a.filter()));
            case "selectattr", "rejectattr" -> select(a, value, String.valueOf(a.required(0, "attribute")),
                    "selectattr".equals(a.filter()));
            case "sort" -> sort(value, a);
            case "unique" -> unique(value, a);
            case "sum" -> sum(value, a);
            case "min", "max" -> minMax(value, a);
            case "dictsort" -> dictsort(value, a);
            default -> throw new ChatTemplateException("no filter named '" + a.filter() + "'");
        };
    }

    private static List<Object> reversed(Object value) {
        if (value instanceof PyUndefined) {
            return List.of();
        }
        List<Object> items = PyOps.iterate(value);
        Collections.reverse(items);
        return items;
    }

    private static String join(Args a, Object value) {
        String sep = PyRepr.str(a.get(0, "d", ""));
        Object attribute = a.get(1, "attribute", null);
        List<Object> items = PyOps.iterate(value);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                sb.append(sep);
            }
            Object item = attribute == null ? items.get(i) : attr(items.get(i), attribute, null);
            sb.append(PyRepr.str(item));
        }
        return sb.toString();
    }

    private static List<Object> items(Object value) {
        if (value instanceof PyUndefined) {
            return List.of();
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new ChatTemplateException("Can only get item pairs from a mapping.");
        }
        return PyAccess.pairs(m);
    }

    private static List<Object> map(Args a, Object value) {
        Function<Object, Object> f;
        if (a.positional().isEmpty() && a.keywords().containsKey("attribute")) {
            Object attribute = a.keywords().get("attribute");
            Object fallback = a.keywords().get("default");
            f = item -> attr(item, attribute, fallback);
        } else {
            String filter = String.valueOf(a.required(0, "filter"));
            List<?> rest = a.from(1);
            f = item -> PyFilters.filter(filter, item, rest, Map.of());
        }
        List<Object> out = new ArrayList<>();
        if (PyOps.truthy(value)) {
            for (Object item : PyOps.iterate(value)) {
                out.add(f.apply(item));
            }
        }
        return out;
    }

    /** select/reject (attribute null) and selectattr/rejectattr: items whose test passes (or fails). */
    private static List<Object> select(Args a, Object value, String attribute, boolean keep) {
        int testAt = attribute == null ? 0 : 1;
        Object test = a.get(testAt, "name", null);
        List<?> testArgs = a.from(testAt + 1);
        List<Object> out = new ArrayList<>();
        if (!PyOps.truthy(value)) {
            return out;
        }
        for (Object item : PyOps.iterate(value)) {
            Object subject = attribute == null ? item : attr(item, attribute, null);
            boolean pass = test == null ? PyOps.truthy(subject) : PyTests.test(String.valueOf(test), subject, testArgs);
            if (pass == keep) {
                out.add(item);
            }
        }
        return out;
    }

    private static List<Object> sort(Object value, Args a) {
        boolean reverse = PyOps.truthy(a.get(0, "reverse", false));
        Comparator<Object> order = order(a.get(1, "case_sensitive", false), a.get(2, "attribute", null));
        List<Object> items = PyOps.iterate(value);
        // Python's sort is stable also when reversed: it reverses the comparison, not the result.
        items.sort(reverse ? order.reversed() : order);
        return items;
    }

    private static List<Object> unique(Object value, Args a) {
        boolean caseSensitive = PyOps.truthy(a.get(0, "case_sensitive", false));
        Object attribute = a.get(1, "attribute", null);
        List<Object> seen = new ArrayList<>();
        List<Object> out = new ArrayList<>();
        for (Object item : PyOps.iterate(value)) {
            Object key = key(item, caseSensitive, attribute);
            if (seen.stream().noneMatch(s -> PyOps.eq(s, key))) {
                seen.add(key);
                out.add(item);
            }
        }
        return out;
    }

    private static Object sum(Object value, Args a) {
        Object attribute = a.get(0, "attribute", null);
        Object total = a.get(1, "start", 0L);
        for (Object item : PyOps.iterate(value)) {
            total = PyOps.binary("+", total, attribute == null ? item : attr(item, attribute, null));
        }
        return total;
    }

    private static Object minMax(Object value, Args a) {
        List<Object> items = PyOps.iterate(value);
        if (items.isEmpty()) {
            return PyUndefined.value();
        }
        Comparator<Object> order = order(a.get(0, "case_sensitive", false), a.get(1, "attribute", null));
        return "min".equals(a.filter()) ? Collections.min(items, order) : Collections.max(items, order);
    }

    private static List<Object> dictsort(Object value, Args a) {
        List<Object> pairs = items(value);
        boolean caseSensitive = PyOps.truthy(a.get(0, "case_sensitive", false));
        int by = "value".equals(a.get(1, "by", "key")) ? 1 : 0;
        Comparator<Object> order = (x, y) -> {
            Object kx = key(((List<?>) x).get(by), caseSensitive, null);
            Object ky = key(((List<?>) y).get(by), caseSensitive, null);
            return PyOps.compare("<", kx, ky) ? -1 : PyOps.eq(kx, ky) ? 0 : 1;
        };
        pairs.sort(PyOps.truthy(a.get(2, "reverse", false)) ? order.reversed() : order);
        return pairs;
    }

    private static Comparator<Object> order(Object caseSensitive, Object attribute) {
        boolean cs = PyOps.truthy(caseSensitive);
        return (x, y) -> {
            Object kx = key(x, cs, attribute);
            Object ky = key(y, cs, attribute);
            return PyOps.compare("<", kx, ky) ? -1 : PyOps.eq(kx, ky) ? 0 : 1;
        };
    }

    /** jinja2's sort key: the attribute if given, lower-cased when it is a string and case is ignored. */
    private static Object key(Object item, boolean caseSensitive, Object attribute) {
        Object k = attribute == null ? item : attr(item, attribute, null);
        return !caseSensitive && PyOps.isStr(k) ? k.toString().toLowerCase(java.util.Locale.ROOT) : k;
    }

    /** jinja2's make_attrgetter: "a.b.0" walks items (integers as indices). */
    static Object attr(Object item, Object attribute, Object fallback) {
        Object v = item;
        for (String part : String.valueOf(attribute).split("\\.")) {
            boolean index = !part.isEmpty() && part.chars().allMatch(Character::isDigit);
            Object key = index ? (Object) Long.parseLong(part) : part;
            v = PyAccess.item(v, key);
        }
        return v instanceof PyUndefined && fallback != null ? fallback : v;
    }
}
