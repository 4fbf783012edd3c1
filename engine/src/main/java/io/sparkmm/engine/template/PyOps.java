package io.sparkmm.engine.template;

import com.hubspot.jinjava.objects.SafeString;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's operators as jinja2 applies them, for the expressions {@link ExprCompiler} emits:
 * truthiness ({@code "false"} is true, {@code []} is false), {@code + - * / // % **} with
 * Python's types ({@code 'a' + ['b']} is a TypeError, {@code 2 * 'ab'} repeats, {@code 7 // -2}
 * floors), equality without coercion ({@code 1 == '1'} is false), ordering, {@code in} and
 * iteration ({@code for x in None} is a TypeError, a string iterates its characters).
 */
final class PyOps {

    private PyOps() {}

    static boolean truthy(Object v) {
        if (v == null || v instanceof PyUndefined) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.doubleValue() != 0;
        }
        if (v instanceof CharSequence || v instanceof SafeString) {
            return !v.toString().isEmpty();
        }
        if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    static boolean isStr(Object v) {
        return v instanceof CharSequence || v instanceof SafeString;
    }

    /** Python int (bool included, as in Python). */
    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger || v instanceof Boolean;
    }

    static boolean isNumber(Object v) {
        return v instanceof Number || v instanceof Boolean;
    }

    static long asLong(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).longValue();
    }

    static double asDouble(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).doubleValue();
    }

    static Object binary(String op, Object a, Object b) {
        failIfUndefined(a);
        failIfUndefined(b);
        boolean nums = isNumber(a) && isNumber(b);
        boolean ints = isInt(a) && isInt(b);
        switch (op) {
            case "+" -> {
                if (nums) {
                    return ints ? (Object) Math.addExact(asLong(a), asLong(b)) : asDouble(a) + asDouble(b);
                }
                if (isStr(a) && isStr(b)) {
                    return a.toString() + b;
                }
                if (a instanceof List<?> x && b instanceof List<?> y) {
                    List<Object> out = new ArrayList<>(x);
                    out.addAll(y);
                    return out;
                }
                if (isStr(a) || a instanceof List) {
                    String t = isStr(a) ? "str" : "list";
                    throw new ChatTemplateException("can only concatenate " + t + " (not \"" + PyTypes.name(b)
                            + "\") to " + t);
                }
            }
            case "-" -> {
                if (nums) {
                    return ints ? (Object) Math.subtractExact(asLong(a), asLong(b)) : asDouble(a) - asDouble(b);
                }
            }
            case "*" -> {
                if (nums) {
                    return ints ? (Object) Math.multiplyExact(asLong(a), asLong(b)) : asDouble(a) * asDouble(b);
                }
                Object seq = isInt(a) ? b : a;
                Object times = isInt(a) ? a : b;
                if (isInt(times) && (isStr(seq) || seq instanceof List)) {
                    return repeat(seq, asLong(times));
                }
            }
            case "/" -> {
                if (nums) {
                    if (asDouble(b) == 0) {
                        throw new ChatTemplateException("division by zero");
                    }
                    return asDouble(a) / asDouble(b);
                }
            }
            case "//", "%" -> {
                if (nums) {
                    return floorDivOrMod(op, a, b, ints);
                }
                if ("%".equals(op) && isStr(a)) {
                    return PyFormat.percent(a.toString(), b);
                }
            }
            case "**" -> {
                if (nums) {
                    if (ints && asLong(b) >= 0) {
                        return BigInteger.valueOf(asLong(a)).pow((int) asLong(b)).longValueExact();
                    }
                    return Math.pow(asDouble(a), asDouble(b));
                }
            }
            default -> throw new IllegalArgumentException(op);
        }
        throw new ChatTemplateException("unsupported operand type(s) for " + op + ": '" + PyTypes.name(a)
                + "' and '" + PyTypes.name(b) + "'");
    }

    private static Object floorDivOrMod(String op, Object a, Object b, boolean ints) {
        if (asDouble(b) == 0) {
            throw new ChatTemplateException(ints ? "integer division or modulo by zero"
                    : "float " + ("%".equals(op) ? "modulo" : "floor division") + " by zero");
        }
        if (ints) {
            return "//".equals(op) ? Math.floorDiv(asLong(a), asLong(b)) : Math.floorMod(asLong(a), asLong(b));
        }
        double x = asDouble(a);
        double y = asDouble(b);
        if ("//".equals(op)) {
            return Math.floor(x / y);
        }
        double m = x % y;
        return m != 0 && (m < 0) != (y < 0) ? m + y : m;
    }

    private static Object repeat(Object seq, long times) {
        if (isStr(seq)) {
            return times <= 0 ? "" : seq.toString().repeat(Math.toIntExact(times));
        }
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < times; i++) {
            out.addAll((List<?>) seq);
        }
        return out;
    }

    static Object unary(String op, Object v) {
        failIfUndefined(v);
        if (!isNumber(v)) {
            throw new ChatTemplateException("bad operand type for unary " + op + ": '" + PyTypes.name(v) + "'");
        }
        if ("+".equals(op)) {
            return isInt(v) ? (Object) asLong(v) : asDouble(v);
        }
        return isInt(v) ? (Object) Math.negateExact(asLong(v)) : -asDouble(v);
    }

    static boolean eq(Object a, Object b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a instanceof PyUndefined || b instanceof PyUndefined) {
            return a instanceof PyUndefined && b instanceof PyUndefined;
        }
        if (isNumber(a) && isNumber(b)) {
            return isInt(a) && isInt(b) ? asLong(a) == asLong(b) : asDouble(a) == asDouble(b);
        }
        if (isStr(a) && isStr(b)) {
            return a.toString().equals(b.toString());
        }
        if (a instanceof Collection<?> x && b instanceof Collection<?> y) {
            if (x.size() != y.size() || (a instanceof PyTuple) != (b instanceof PyTuple)) {
                return false;
            }
            Iterator<?> i = x.iterator();
            Iterator<?> j = y.iterator();
            while (i.hasNext()) {
                if (!eq(i.next(), j.next())) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    /** {@code <, <=, >, >=} between numbers, strings (by code point) or lists. */
    static boolean compare(String op, Object a, Object b) {
        failIfUndefined(a);
        failIfUndefined(b);
        int c = order(op, a, b);
        return switch (op) {
            case "<" -> c < 0;
            case "<=" -> c <= 0;
            case ">" -> c > 0;
            case ">=" -> c >= 0;
            default -> throw new IllegalArgumentException(op);
        };
    }

    private static int order(String op, Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return isInt(a) && isInt(b) ? Long.compare(asLong(a), asLong(b))
                    : Double.compare(asDouble(a), asDouble(b));
        }
        if (isStr(a) && isStr(b)) {
            int[] x = a.toString().codePoints().toArray();
            int[] y = b.toString().codePoints().toArray();
            return java.util.Arrays.compare(x, y);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return order(op, x.get(i), y.get(i));
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        throw new ChatTemplateException("'" + op + "' not supported between instances of '" + PyTypes.name(a)
                + "' and '" + PyTypes.name(b) + "'");
    }

    /** {@code item in container}. */
    static boolean in(Object item, Object container) {
        if (container instanceof PyUndefined) {
            return false; // Undefined iterates as empty
        }
        if (isStr(container)) {
            if (!isStr(item)) {
                throw new ChatTemplateException("'in <string>' requires string as left operand, not "
                        + PyTypes.name(item));
            }
            return container.toString().contains(item.toString());
        }
        if (container instanceof Map<?, ?> m) {
            return m.containsKey(item) || m.keySet().stream().anyMatch(k -> eq(k, item));
        }
        if (container instanceof Collection<?> c) {
            return c.stream().anyMatch(x -> eq(x, item));
        }
        throw new ChatTemplateException("argument of type '" + PyTypes.name(container) + "' is not iterable");
    }

    /** What a for loop walks: a list's items, a dict's keys, a string's characters. */
    static List<Object> iterate(Object v) {
        if (v instanceof PyUndefined) {
            return List.of();
        }
        if (isStr(v)) {
            List<Object> chars = new ArrayList<>();
            v.toString().codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
            return chars;
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        throw new ChatTemplateException("'" + PyTypes.name(v) + "' object is not iterable");
    }

    /** jinja2's {@code ~}: every part through str(), Undefined as "". */
    static String concat(List<?> parts) {
        StringBuilder sb = new StringBuilder();
        for (Object p : parts) {
            sb.append(PyRepr.str(p));
        }
        return sb.toString();
    }

    static void failIfUndefined(Object v) {
        if (v instanceof PyUndefined u) {
            throw u.error();
        }
    }
}
