package io.sparkmm.engine.template;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The functions {@link ExprCompiler}'s output calls, registered with jinjava under names no
 * template identifier collides with. jinjava calls them statically; every parameter is an
 * Object so that jinjava's EL never coerces a value (it would turn None into "" for a String).
 */
public final class PyRuntime {

    static final String PREFIX = "__py_";

    private PyRuntime() {}

    static List<ELFunctionDefinition> definitions() {
        List<ELFunctionDefinition> defs = new ArrayList<>();
        for (java.lang.reflect.Method m : PyRuntime.class.getDeclaredMethods()) {
            if (java.lang.reflect.Modifier.isPublic(m.getModifiers())
                    && java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                defs.add(new ELFunctionDefinition("", PREFIX + m.getName(), m));
            }
        }
        return defs;
    }

    public static Object var(Object name) {
        return PyAccess.variable((String) name);
    }

    public static Object attr(Object obj, Object name) {
        return PyAccess.attribute(obj, (String) name);
    }

    public static Object item(Object obj, Object key) {
        return PyAccess.item(obj, key);
    }

    public static Object slice(Object obj, Object start, Object stop, Object step) {
        return TemplateFunctions.slice(obj, start, stop, step);
    }

    public static Object call(Object obj, Object name, Object args) {
        return PyAccess.call(obj, (String) name, (List<?>) args);
    }

    @SuppressWarnings("unchecked")
    public static Object filter(Object name, Object value, Object args, Object kwargs) {
        return PyFilters.filter((String) name, value, (List<?>) args, (Map<String, ?>) kwargs);
    }

    public static boolean test(Object name, Object value, Object args) {
        return PyTests.test((String) name, value, (List<?>) args);
    }

    public static boolean bool(Object value) {
        return PyOps.truthy(value);
    }

    public static String str(Object value) {
        return PyRepr.str(value);
    }

    public static List<Object> iter(Object value) {
        return PyOps.iterate(value);
    }

    public static Object op(Object op, Object a, Object b) {
        return PyOps.binary((String) op, a, b);
    }

    public static Object unary(Object op, Object value) {
        return PyOps.unary((String) op, value);
    }

    public static String concat(Object parts) {
        return PyOps.concat((List<?>) parts);
    }

    public static boolean eq(Object a, Object b) {
        return PyOps.eq(a, b);
    }

    public static boolean cmp(Object op, Object a, Object b) {
        return PyOps.compare((String) op, a, b);
    }

    public static boolean in(Object item, Object container) {
        return PyOps.in(item, container);
    }

    /** A list display; ArrayList because items may be None. */
    public static List<Object> list(Object... items) {
        return new ArrayList<>(Arrays.asList(items));
    }

    /** A tuple display. */
    public static List<Object> tuple(Object... items) {
        return new PyTuple(Arrays.asList(items));
    }

    /** A dict display from alternating keys and values, in order. */
    public static Map<Object, Object> dict(Object... keysAndValues) {
        Map<Object, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /**
     * The items of a loop with a filter, {@code for targets in seq if condition}: jinja2 filters
     * before iterating, so {@code loop.index} and {@code loop.last} count the kept items only.
     * The condition (already compiled) is evaluated once per item with the targets bound.
     */
    public static List<Object> loopfilter(Object seq, Object targets, Object condition) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        String[] names = ((String) targets).replace("(", "").replace(")", "").split(",");
        List<Object> kept = new ArrayList<>();
        for (Object item : PyOps.iterate(seq)) {
            try (JinjavaInterpreter.InterpreterScopeClosable scope = interpreter.enterScope()) {
                for (int i = 0; i < names.length; i++) {
                    Object value = names.length == 1 ? item
                            : item instanceof List<?> l && i < l.size() ? l.get(i) : null;
                    interpreter.getContext().put(names[i].strip(), value);
                }
                if (PyOps.truthy(interpreter.resolveELExpression((String) condition, interpreter.getLineNumber()))) {
                    kept.add(item);
                }
            }
        }
        return kept;
    }

    public static Object undefined() {
        return PyUndefined.value();
    }
}
