package io.sparkmm.engine.template;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * jinja2's tests ({@code x is defined}, {@code x is string}, {@code x is divisibleby 3}, ...) with
 * jinja2's answers: None is not "defined"-less (it is defined), Undefined is iterable, a bool is
 * a number but not an integer.
 */
final class PyTests {

    private PyTests() {}

    static boolean test(String name, Object v, List<?> args) {
        return switch (name) {
            case "defined" -> !(v instanceof PyUndefined);
            case "undefined" -> v instanceof PyUndefined;
            case "none" -> v == null;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "integer" -> PyOps.isInt(v) && !(v instanceof Boolean);
            case "float" -> v instanceof Double || v instanceof Float;
            case "number" -> PyOps.isNumber(v);
            case "string" -> PyOps.isStr(v);
            case "mapping" -> v instanceof Map;
            case "iterable" -> PyOps.isStr(v) || v instanceof Collection || v instanceof Map
                    || v instanceof PyUndefined;
            case "sequence" -> PyOps.isStr(v) || v instanceof List || v instanceof Map || v instanceof PyUndefined;
            case "callable" -> false;
            case "escaped" -> false;
            case "sameas" -> sameAs(v, arg(args, name));
            case "in" -> PyOps.in(v, arg(args, name));
            case "eq", "equalto", "==" -> PyOps.eq(v, arg(args, name));
            case "ne", "!=" -> !PyOps.eq(v, arg(args, name));
            case "lt", "lessthan", "<" -> PyOps.compare("<", v, arg(args, name));
            case "le", "<=" -> PyOps.compare("<=", v, arg(args, name));
            case "gt", "greaterthan", ">" -> PyOps.compare(">", v, arg(args, name));
            case "ge", ">=" -> PyOps.compare(">=", v, arg(args, name));
            case "divisibleby" -> PyOps.eq(PyOps.binary("%", v, arg(args, name)), 0L);
            case "even" -> PyOps.eq(PyOps.binary("%", v, 2L), 0L);
            case "odd" -> PyOps.eq(PyOps.binary("%", v, 2L), 1L);
            case "lower" -> isCase(PyRepr.str(v), false);
            case "upper" -> isCase(PyRepr.str(v), true);
            default -> throw new ChatTemplateException("no test named '" + name + "'");
        };
    }

    /** Python's {@code is}: identity, which for None, bools and equal small values is equality. */
    private static boolean sameAs(Object a, Object b) {
        if (a == null || b == null || a instanceof Boolean || b instanceof Boolean) {
            return a == b || (a != null && a.equals(b));
        }
        return a == b;
    }

    private static boolean isCase(String s, boolean upper) {
        Object r = PyStrings.call(s, upper ? "isupper" : "islower", new Object[0]);
        return Boolean.TRUE.equals(r);
    }

    private static Object arg(List<?> args, String test) {
        if (args.isEmpty()) {
            throw new ChatTemplateException("test '" + test + "' needs an argument");
        }
        return args.get(0);
    }
}
