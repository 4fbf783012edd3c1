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
import io.sparkmm.engine.template.JinjaLexer.Kind;
import io.sparkmm.engine.template.JinjaLexer.Token;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * jinja2's expression grammar ({@code jinja2/parser.py}, one method per precedence level, from
 * loosest to tightest): conditional expression, {@code or}, {@code and}, {@code not}, comparisons
 * and {@code in}, {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary {@code - +}, then
 * postfix (attributes, subscripts, calls) and, tightest of all, filters and tests. That last rule
 * is why {@code not x is defined} means {@code not (x is defined)}.
 */
final class JinjaParser extends JinjaTokenStream {

    private static final Set<String> COMPARE = Set.of("==", "!=", "<", "<=", ">", ">=");
    private static final Set<String> TEST_ARG_START = Set.of("(", "[", "{");

    private JinjaParser(String source) {
        super(source);
    }

    /** Parses a whole expression (a bare tuple {@code a, b} is a list). */
    static JinjaExpr parse(String source) {
        JinjaParser p = new JinjaParser(source);
        JinjaExpr e = p.tuple();
        p.expectEnd();
        return e;
    }

    private JinjaExpr tuple() {
        List<JinjaExpr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expect(",");
            }
            if (peek().kind() == Kind.END || peek().is(")")) {
                break;
            }
            items.add(expression());
            if (peek().is(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (items.isEmpty()) {
                throw fail("expected an expression");
            }
            return items.get(0);
        }
        return new ListOf(items, true);
    }

    private JinjaExpr expression() {
        JinjaExpr e = or();
        while (acceptName("if")) {
            JinjaExpr test = or();
            JinjaExpr otherwise = acceptName("else") ? expression() : null;
            e = new CondExpr(test, e, otherwise);
        }
        return e;
    }

    private JinjaExpr or() {
        JinjaExpr e = and();
        while (acceptName("or")) {
            e = new Or(e, and());
        }
        return e;
    }

    private JinjaExpr and() {
        JinjaExpr e = not();
        while (acceptName("and")) {
            e = new And(e, not());
        }
        return e;
    }

    private JinjaExpr not() {
        if (acceptName("not")) {
            return new Not(not());
        }
        return compare();
    }

    private JinjaExpr compare() {
        JinjaExpr first = math1();
        List<String> ops = new ArrayList<>();
        List<JinjaExpr> operands = new ArrayList<>();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && COMPARE.contains(t.text())) {
                pos++;
                ops.add(t.text());
            } else if (t.isName("in")) {
                pos++;
                ops.add("in");
            } else if (t.isName("not") && peek(1).isName("in")) {
                pos += 2;
                ops.add("notin");
            } else {
                break;
            }
            operands.add(math1());
        }
        return ops.isEmpty() ? first : new Compare(first, ops, operands);
    }

    private JinjaExpr math1() {
        JinjaExpr e = concat();
        while (peek().is("+") || peek().is("-")) {
            String op = next().text();
            e = new Binary(op, e, concat());
        }
        return e;
    }

    private JinjaExpr concat() {
        List<JinjaExpr> parts = new ArrayList<>(List.of(math2()));
        while (accept("~")) {
            parts.add(math2());
        }
        return parts.size() == 1 ? parts.get(0) : new Concat(parts);
    }

    private JinjaExpr math2() {
        JinjaExpr e = pow();
        while (peek().is("*") || peek().is("/") || peek().is("//") || peek().is("%")) {
            String op = next().text();
            e = new Binary(op, e, pow());
        }
        return e;
    }

    private JinjaExpr pow() {
        JinjaExpr e = unary(true);
        while (accept("**")) {
            e = new Binary("**", e, unary(true));
        }
        return e;
    }

    private JinjaExpr unary(boolean withFilter) {
        JinjaExpr e;
        if (peek().is("-") || peek().is("+")) {
            String op = next().text();
            e = new Unary(op, unary(false));
        } else {
            e = primary();
        }
        e = postfix(e);
        return withFilter ? filterExpr(e) : e;
    }

    private JinjaExpr primary() {
        Token t = next();
        switch (t.kind()) {
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Const(true);
                    case "false", "False" -> new Const(false);
                    case "none", "None" -> new Const(null);
                    default -> new Name(t.text());
                };
            }
            case STRING -> {
                StringBuilder sb = new StringBuilder((String) t.value());
                while (peek().kind() == Kind.STRING) { // adjacent literals join, as in Python
                    sb.append((String) next().value());
                }
                return new Const(sb.toString());
            }
            case INTEGER, FLOAT -> {
                return new Const(t.value());
            }
            default -> { }
        }
        if (t.is("(")) {
            JinjaExpr e = peek().is(")") ? new ListOf(List.of(), true) : tuple();
            expect(")");
            return e;
        }
        if (t.is("[")) {
            List<JinjaExpr> items = new ArrayList<>();
            while (!peek().is("]")) {
                if (!items.isEmpty()) {
                    expect(",");
                    if (peek().is("]")) {
                        break;
                    }
                }
                items.add(expression());
            }
            expect("]");
            return new ListOf(items, false);
        }
        if (t.is("{")) {
            List<JinjaExpr> keys = new ArrayList<>();
            List<JinjaExpr> values = new ArrayList<>();
            while (!peek().is("}")) {
                if (!keys.isEmpty()) {
                    expect(",");
                    if (peek().is("}")) {
                        break;
                    }
                }
                keys.add(expression());
                expect(":");
                values.add(expression());
            }
            expect("}");
            return new DictOf(keys, values);
        }
        throw fail("unexpected '" + t.text() + "'");
    }

    private JinjaExpr postfix(JinjaExpr e) {
        while (true) {
            if (accept(".")) {
                Token t = next();
                if (t.kind() == Kind.NAME) {
                    e = new Getattr(e, t.text());
                } else if (t.kind() == Kind.INTEGER) {
                    e = new Getitem(e, new Const(t.value()));
                } else {
                    throw fail("expected name or number after '.'");
                }
            } else if (accept("[")) {
                e = subscript(e);
            } else if (peek().is("(")) {
                e = call(e);
            } else {
                return e;
            }
        }
    }

    private JinjaExpr filterExpr(JinjaExpr e) {
        while (true) {
            if (accept("|")) {
                String name = dottedName();
                List<JinjaExpr> args = new ArrayList<>();
                Map<String, JinjaExpr> kwargs = new LinkedHashMap<>();
                if (peek().is("(")) {
                    callArgs(args, kwargs);
                }
                e = new Filter(e, name, args, kwargs);
            } else if (acceptName("is")) {
                boolean negated = acceptName("not");
                String name = dottedName();
                List<JinjaExpr> args = new ArrayList<>();
                Token t = peek();
                if (t.is("(")) {
                    Map<String, JinjaExpr> kwargs = new LinkedHashMap<>();
                    callArgs(args, kwargs);
                } else if ((t.kind() == Kind.NAME || t.kind() == Kind.STRING || t.kind() == Kind.INTEGER
                        || t.kind() == Kind.FLOAT || (t.kind() == Kind.OP && TEST_ARG_START.contains(t.text())))
                        && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
                    if (t.isName("is")) {
                        throw fail("you cannot chain multiple tests with is");
                    }
                    args.add(postfix(primary()));
                }
                JinjaExpr test = new Test(e, name, args);
                e = negated ? new Not(test) : test;
            } else if (peek().is("(")) {
                e = call(e);
            } else {
                return e;
            }
        }
    }

    private JinjaExpr subscript(JinjaExpr obj) {
        JinjaExpr[] parts = new JinjaExpr[3];
        boolean slice = false;
        int part = 0;
        while (!peek().is("]")) {
            if (peek().is(":")) {
                next();
                slice = true;
                part++;
                if (part > 2) {
                    throw fail("too many ':' in a slice");
                }
            } else if (peek().is(",")) {
                throw fail("tuple subscripts are not supported in chat templates");
            } else {
                if (parts[part] != null) {
                    throw fail("expected ']'");
                }
                parts[part] = expression();
            }
        }
        expect("]");
        if (!slice) {
            if (parts[0] == null) {
                throw fail("expected a subscript expression");
            }
            return new Getitem(obj, parts[0]);
        }
        return new Slice(obj, parts[0], parts[1], parts[2]);
    }

    private JinjaExpr call(JinjaExpr target) {
        List<JinjaExpr> args = new ArrayList<>();
        Map<String, JinjaExpr> kwargs = new LinkedHashMap<>();
        callArgs(args, kwargs);
        return new Call(target, args, kwargs);
    }

    private void callArgs(List<JinjaExpr> args, Map<String, JinjaExpr> kwargs) {
        expect("(");
        boolean first = true;
        while (!peek().is(")")) {
            if (!first) {
                expect(",");
                if (peek().is(")")) {
                    break;
                }
            }
            first = false;
            if (peek().is("*") || peek().is("**")) {
                throw fail("*args and **kwargs are not supported in chat templates");
            }
            if (peek().kind() == Kind.NAME && peek(1).is("=")) {
                String key = next().text();
                next();
                kwargs.put(key, expression());
            } else {
                if (!kwargs.isEmpty()) {
                    throw fail("positional argument follows keyword argument");
                }
                args.add(expression());
            }
        }
        expect(")");
    }

    private String dottedName() {
        Token t = next();
        if (t.kind() != Kind.NAME) {
            throw fail("expected a name, got '" + t.text() + "'");
        }
        StringBuilder name = new StringBuilder(t.text());
        while (accept(".")) {
            name.append('.').append(next().text());
        }
        return name.toString();
    }
}
