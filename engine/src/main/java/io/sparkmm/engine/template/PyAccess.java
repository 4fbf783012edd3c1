package io.sparkmm.engine.template;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.NullValue;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ScopeMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Names, attributes, items and method calls with jinja2's sandboxed semantics. Something missing
 * is {@link PyUndefined} (a dict without the key, a list index out of range, an attribute of
 * None); using Undefined further (its attribute, calling it) raises, as jinja2's UndefinedError.
 * Only the read-only methods of str and dict and {@code loop.cycle} can be called.
 */
final class PyAccess {

    private static final java.util.Set<String> UNSUPPORTED_LOOP_ATTRIBUTES = java.util.Set.of("previtem", "nextitem",
            "changed");

    private PyAccess() {}

    /** A template variable; one set to None is None, one never set is Undefined. */
    static Object variable(String name) {
        // jinjava's own lookup cannot tell a None value from a missing name: it skips nulls.
        for (ScopeMap<String, Object> scope = JinjavaInterpreter.getCurrent().getContext(); scope != null;
                scope = scope.getParent()) {
            if (scope.getScope().containsKey(name)) {
                Object v = scope.getScope().get(name);
                // jinjava stores a None loop item as its NullValue marker
                return v instanceof NullValue ? null : v;
            }
        }
        return PyUndefined.name(name);
    }

    /** {@code obj.name}: for a dict its item, for {@code loop} its attribute. */
    static Object attribute(Object obj, String name) {
        PyOps.failIfUndefined(obj);
        if (obj instanceof Map<?, ?> map) {
            return map.containsKey(name) ? map.get(name) : PyUndefined.attribute(obj, name);
        }
        if (obj instanceof ForLoop loop) {
            Object v = loopAttribute(loop, name);
            if (v == null && UNSUPPORTED_LOOP_ATTRIBUTES.contains(name)) {
                // jinja2 has them, jinjava's loop does not keep its items: refuse rather than print ""
                throw new ChatTemplateException("loop." + name + " is not supported in chat templates");
            }
            return v != null ? v : PyUndefined.attribute(obj, name);
        }
        return PyUndefined.attribute(obj, name);
    }

    /** {@code obj[key]}: Python indexing (negative from the end), Undefined when out of range. */
    static Object item(Object obj, Object key) {
        PyOps.failIfUndefined(obj);
        Object o = obj instanceof SafeString ? obj.toString() : obj;
        if (o instanceof Map<?, ?> map) {
            if (map.containsKey(key)) {
                return map.get(key);
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (PyOps.eq(e.getKey(), key)) {
                    return e.getValue();
                }
            }
            return PyUndefined.attribute(obj, key);
        }
        if (o instanceof List<?> list && PyOps.isInt(key)) {
            Integer i = index(PyOps.asLong(key), list.size());
            return i == null ? PyUndefined.attribute(obj, key) : list.get(i);
        }
        if (o instanceof String s && PyOps.isInt(key)) {
            Integer i = index(PyOps.asLong(key), s.codePointCount(0, s.length()));
            return i == null ? PyUndefined.attribute(obj, key)
                    : new String(Character.toChars(s.codePointAt(s.offsetByCodePoints(0, i))));
        }
        if (key instanceof String name) {
            return attribute(o, name);
        }
        return PyUndefined.attribute(obj, key);
    }

    /** {@code obj.name(args)}. */
    static Object call(Object obj, String name, List<?> args) {
        if (obj instanceof PyUndefined u) {
            throw u.error();
        }
        Object[] a = args.toArray();
        Object o = obj instanceof SafeString ? obj.toString() : obj;
        if (o instanceof String s && PyStrings.has(name)) {
            return PyStrings.call(s, name, a);
        }
        if (o instanceof Map<?, ?> map) {
            switch (name) {
                case "items":
                    return pairs(map);
                case "keys":
                    return new ArrayList<>(map.keySet());
                case "values":
                    return new ArrayList<>(map.values());
                case "get":
                    Object value = a.length > 0 ? item(map, a[0]) : PyUndefined.value();
                    return value instanceof PyUndefined ? (a.length > 1 ? a[1] : null) : value;
                default:
                    if (map.containsKey(name)) {
                        throw new ChatTemplateException("'" + PyTypes.name(map.get(name)) + "' object is not callable");
                    }
                    break;
            }
        }
        if (o instanceof ForLoop loop && "cycle".equals(name)) {
            if (a.length == 0) {
                throw new ChatTemplateException("no items for cycling given");
            }
            return a[(loop.getIndex0()) % a.length];
        }
        if (o == null || o instanceof String || o instanceof Map || o instanceof List || PyOps.isNumber(o)) {
            // what jinja2 reports: the attribute is Undefined, and calling Undefined raises
            throw PyUndefined.attribute(o, name).error();
        }
        throw new ChatTemplateException("calling '" + name + "' on a " + PyTypes.name(o)
                + " is not allowed in chat templates");
    }

    /** dict.items() as a list of (key, value) tuples. */
    static List<Object> pairs(Map<?, ?> map) {
        List<Object> items = new ArrayList<>(map.size());
        for (Map.Entry<?, ?> e : map.entrySet()) {
            items.add(new PyTuple(java.util.Arrays.asList(e.getKey(), e.getValue())));
        }
        return items;
    }

    static Object loopAttribute(ForLoop loop, String name) {
        return switch (name) {
            case "index" -> (long) loop.getIndex();
            case "index0" -> (long) loop.getIndex0();
            case "revindex" -> (long) loop.getRevindex();
            case "revindex0" -> (long) loop.getRevindex0();
            case "first" -> loop.isFirst();
            case "last" -> loop.isLast();
            case "length" -> (long) loop.getLength();
            case "depth" -> (long) loop.getDepth();
            case "depth0" -> (long) loop.getDepth0();
            default -> null;
        };
    }

    /** A Python index (negative counts from the end) as a Java index, or null when out of range. */
    static Integer index(long i, int size) {
        long j = i < 0 ? i + size : i;
        return j >= 0 && j < size ? (int) j : null;
    }
}
