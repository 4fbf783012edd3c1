package io.sparkmm.engine.template;

import io.sparkmm.engine.template.JinjaExpr.And;
import io.sparkmm.engine.template.JinjaExpr.Binary;
import io.sparkmm.engine.template.JinjaExpr.Call;
import io.sparkmm.engine.template.JinjaExpr.Compare;
import io.sparkmm.engine.template.JinjaExpr.Concat;
import io.sparkmm.engine.template.JinjaExpr.CondExpr;
import io.sparkmm.engine.template.JinjaExpr.Const;
import io.sparkmm.engine.template.JinjaExpr.DictOf;
import io.sparkmm.engine.template.JinjaExpr.Filter;
import io.sparkmm.engine.template.JinjaExpr.Getattr;
import io.sparkmm.engine.template.JinjaExpr.Getitem;
import io.sparkmm.engine.template.JinjaExpr.ListOf;
import io.sparkmm.engine.template.JinjaExpr.Name;
import io.sparkmm.engine.template.JinjaExpr.Not;
import io.sparkmm.engine.template.JinjaExpr.Or;
import io.sparkmm.engine.template.JinjaExpr.Slice;
import io.sparkmm.engine.template.JinjaExpr.Test;
import io.sparkmm.engine.template.JinjaExpr.Unary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Prints a parsed jinja2 expression as a jinjava (EL) expression whose every step is a call into
 * {@link PyRuntime}: names, attributes, operators, filters and tests get Python's semantics
 * there, and the output is fully parenthesised, so neither jinjava's operator precedence nor its
 * coercions ({@code 1 == '1'}, {@code 'a' + [1]}, {@code "false"} being false) ever apply.
 *
 * <p>Expressions in a boolean position (if conditions, operands of not/and/or there) are printed
 * as Java booleans, so {@code and}/{@code or} short-circuit as in Python; elsewhere they return an
 * operand, as in Python ({@code x or 'default'}).
 */
final class ExprCompiler {

    private ExprCompiler() {}

    /** The expression of a {@code {{ ... }}} tag: its value as Python's str() prints it. */
    static String output(String source) {
        return call("str", value(JinjaParser.parse(source)));
    }

    /** An if/elif condition. */
    static String condition(String source) {
        return bool(JinjaParser.parse(source));
    }

    /** Any other expression, e.g. the right side of a set or the sequence of a for. */
    static String value(String source) {
        return value(JinjaParser.parse(source));
    }

    static String value(JinjaExpr e) {
        if (e instanceof Const c) {
            return literal(c.value());
        } else if (e instanceof Name n) {
            return call("var", quote(n.name()));
        } else if (e instanceof ListOf l) {
            return call(l.tuple() ? "tuple" : "list", values(l.items()));
        } else if (e instanceof DictOf d) {
            return dict(d.keys(), d.values());
        } else if (e instanceof Getattr g) {
            return call("attr", value(g.obj()), quote(g.name()));
        } else if (e instanceof Getitem g) {
            return call("item", value(g.obj()), value(g.key()));
        } else if (e instanceof Slice s) {
            return call("slice", value(s.obj()), optional(s.start()), optional(s.stop()), optional(s.step()));
        } else if (e instanceof Call c) {
            return invocation(c);
        } else if (e instanceof Filter f) {
            return call("filter", quote(f.name()), value(f.value()), call("list", values(f.args())), dict(f.kwargs()));
        } else if (e instanceof Test t) {
            return call("test", quote(t.name()), value(t.value()), call("list", values(t.args())));
        } else if (e instanceof Binary b) {
            return call("op", quote(b.op()), value(b.left()), value(b.right()));
        } else if (e instanceof Unary u) {
            return u.operand() instanceof Const c && c.value() instanceof Number && "-".equals(u.op())
                    ? "(-" + literal(c.value()) + ")" : call("unary", quote(u.op()), value(u.operand()));
        } else if (e instanceof Concat c) {
            return call("concat", call("list", values(c.parts())));
        } else if (e instanceof Compare c) {
            return compare(c);
        } else if (e instanceof Not n) {
            return "(!" + bool(n.operand()) + ")";
        } else if (e instanceof And a) {
            return logic(flatten(a, true), true);
        } else if (e instanceof Or o) {
            return logic(flatten(o, false), false);
        } else if (e instanceof CondExpr c) {
            return "(" + bool(c.test()) + " ? " + value(c.then()) + " : "
                    + (c.otherwise() == null ? call("undefined") : value(c.otherwise())) + ")";
        }
        throw new IllegalStateException("unknown node " + e);
    }

    /** The expression as a Java boolean, Python's truthiness applied. */
    static String bool(JinjaExpr e) {
        if (e instanceof Not n) {
            return "(!" + bool(n.operand()) + ")";
        } else if (e instanceof And a) {
            return "(" + bool(a.left()) + " && " + bool(a.right()) + ")";
        } else if (e instanceof Or o) {
            return "(" + bool(o.left()) + " || " + bool(o.right()) + ")";
        } else if (e instanceof Compare || e instanceof Test) {
            return value(e);
        } else if (e instanceof Const c && c.value() instanceof Boolean b) {
            return b.toString();
        }
        return call("bool", value(e));
    }

    /** Whether the expression's value is always a bool, so that and/or may print it as one. */
    private static boolean isBoolean(JinjaExpr e) {
        return e instanceof Not || e instanceof Compare || e instanceof Test
                || (e instanceof Const c && c.value() instanceof Boolean)
                || (e instanceof And a && isBoolean(a.left()) && isBoolean(a.right()))
                || (e instanceof Or o && isBoolean(o.left()) && isBoolean(o.right()));
    }

    /**
     * Python's {@code a and b and c} returns the first falsy operand (or the last), {@code or} the
     * first truthy one: a chain of conditionals, each operand but the last evaluated twice.
     */
    private static String logic(List<JinjaExpr> operands, boolean and) {
        if (operands.stream().allMatch(ExprCompiler::isBoolean)) {
            return "(" + operands.stream().map(ExprCompiler::bool)
                    .collect(Collectors.joining(and ? " && " : " || ")) + ")";
        }
        String out = value(operands.get(operands.size() - 1));
        for (int i = operands.size() - 2; i >= 0; i--) {
            JinjaExpr x = operands.get(i);
            out = "(" + (and ? "!" : "") + bool(x) + " ? " + value(x) + " : " + out + ")";
        }
        return out;
    }

    private static List<JinjaExpr> flatten(JinjaExpr e, boolean and) {
        List<JinjaExpr> out = new ArrayList<>();
        if (and && e instanceof And a) {
            out.addAll(flatten(a.left(), true));
            out.addAll(flatten(a.right(), true));
        } else if (!and && e instanceof Or o) {
            out.addAll(flatten(o.left(), false));
            out.addAll(flatten(o.right(), false));
        } else {
            out.add(e);
        }
        return out;
    }

    /** {@code a < b < c} is {@code a < b and b < c}, as in Python. */
    private static String compare(Compare c) {
        List<String> parts = new ArrayList<>();
        JinjaExpr left = c.first();
        for (int i = 0; i < c.ops().size(); i++) {
            JinjaExpr right = c.operands().get(i);
            String l = value(left);
            String r = value(right);
            parts.add(switch (c.ops().get(i)) {
                case "==" -> call("eq", l, r);
                case "!=" -> "(!" + call("eq", l, r) + ")";
                case "in" -> call("in", l, r);
                case "notin" -> "(!" + call("in", l, r) + ")";
                default -> call("cmp", quote(c.ops().get(i)), l, r);
            });
            left = right;
        }
        return parts.size() == 1 ? parts.get(0) : "(" + String.join(" && ", parts) + ")";
    }

    /**
     * A method of a value ({@code s.split('x')}) goes through the sandbox; a plain name is a
     * template global or macro ({@code raise_exception(...)}, {@code namespace(k=v)}), which jinjava
     * calls itself.
     */
    private static String invocation(Call c) {
        if (c.target() instanceof Getattr g) {
            if (!c.kwargs().isEmpty()) {
                throw new ChatTemplateException("chat template: keyword arguments to ." + g.name()
                        + "() are not supported");
            }
            return call("call", value(g.obj()), quote(g.name()), call("list", values(c.args())));
        }
        if (!(c.target() instanceof Name n)) {
            throw new ChatTemplateException("chat template: only names and methods can be called");
        }
        if ("dict".equals(n.name()) && c.args().isEmpty()) {
            return dict(c.kwargs()); // jinja2's dict(k=v) global; jinjava has none
        }
        if (n.name().startsWith(PyRuntime.PREFIX)) {
            // the runtime's own entry points are not template globals
            throw new ChatTemplateException("'" + n.name() + "' is undefined");
        }
        List<String> args = new ArrayList<>(values(c.args()));
        for (Map.Entry<String, JinjaExpr> kw : c.kwargs().entrySet()) {
            args.add(kw.getKey() + "=(" + value(kw.getValue()) + ")");
        }
        return n.name() + "(" + String.join(", ", args) + ")";
    }

    private static String dict(List<JinjaExpr> keys, List<JinjaExpr> values) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            parts.add(value(keys.get(i)));
            parts.add(value(values.get(i)));
        }
        return call("dict", parts);
    }

    private static String dict(Map<String, JinjaExpr> kwargs) {
        List<String> parts = new ArrayList<>();
        kwargs.forEach((k, v) -> {
            parts.add(quote(k));
            parts.add(value(v));
        });
        return call("dict", parts);
    }

    private static List<String> values(List<JinjaExpr> items) {
        return items.stream().map(ExprCompiler::value).toList();
    }

    private static String optional(JinjaExpr e) {
        return e == null ? "null" : value(e);
    }

    private static String literal(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String s) {
            return quote(s);
        }
        if (v instanceof Double d && (d.isInfinite() || d.isNaN())) {
            throw new ChatTemplateException("chat template: float literal out of range");
        }
        return v.toString();
    }

    /** A jinjava string literal: only the backslash and the quote need escaping there. */
    static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String call(String function, String... args) {
        return call(function, List.of(args));
    }

    private static String call(String function, List<String> args) {
        return PyRuntime.PREFIX + function + "(" + String.join(", ", args) + ")";
    }
}
