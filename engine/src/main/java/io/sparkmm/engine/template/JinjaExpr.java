package io.sparkmm.engine.template;

import java.util.List;
import java.util.Map;

/**
 * A parsed jinja2 expression, with jinja2's node kinds ({@code jinja2.nodes}). Parsing first and
 * then printing the tree for jinjava is what gives every operator jinja2's precedence: the
 * printed form is fully parenthesised, so jinjava's own precedence rules never decide anything.
 */
sealed interface JinjaExpr {

    /** A literal: String, Long, Double, Boolean or null (None). */
    record Const(Object value) implements JinjaExpr {}

    record Name(String name) implements JinjaExpr {}

    /** A list or tuple display; Python prints a tuple in parentheses. */
    record ListOf(List<JinjaExpr> items, boolean tuple) implements JinjaExpr {}

    record DictOf(List<JinjaExpr> keys, List<JinjaExpr> values) implements JinjaExpr {}

    /** {@code obj.name}. */
    record Getattr(JinjaExpr obj, String name) implements JinjaExpr {}

    /** {@code obj[key]}. */
    record Getitem(JinjaExpr obj, JinjaExpr key) implements JinjaExpr {}

    /** {@code obj[start:stop:step]}; absent parts are null. */
    record Slice(JinjaExpr obj, JinjaExpr start, JinjaExpr stop, JinjaExpr step) implements JinjaExpr {}

    /** {@code target(args, name=value)}. */
    record Call(JinjaExpr target, List<JinjaExpr> args, Map<String, JinjaExpr> kwargs) implements JinjaExpr {}

    /** {@code value|name(args)}. */
    record Filter(JinjaExpr value, String name, List<JinjaExpr> args, Map<String, JinjaExpr> kwargs)
            implements JinjaExpr {}

    /** {@code value is name args}; {@code is not} is a {@link Not} around it, as in jinja2. */
    record Test(JinjaExpr value, String name, List<JinjaExpr> args) implements JinjaExpr {}

    /** Arithmetic: {@code + - * / // % **}. */
    record Binary(String op, JinjaExpr left, JinjaExpr right) implements JinjaExpr {}

    /** Unary {@code -} or {@code +}. */
    record Unary(String op, JinjaExpr operand) implements JinjaExpr {}

    /** {@code a ~ b ~ c}: each part converted with str() and joined. */
    record Concat(List<JinjaExpr> parts) implements JinjaExpr {}

    /** {@code first op1 x1 op2 x2 ...}: ops are ==, !=, <, <=, >, >=, in, notin. */
    record Compare(JinjaExpr first, List<String> ops, List<JinjaExpr> operands) implements JinjaExpr {}

    record Not(JinjaExpr operand) implements JinjaExpr {}

    record And(JinjaExpr left, JinjaExpr right) implements JinjaExpr {}

    record Or(JinjaExpr left, JinjaExpr right) implements JinjaExpr {}

    /** {@code then if test else otherwise}; otherwise is null when the else part is missing. */
    record CondExpr(JinjaExpr test, JinjaExpr then, JinjaExpr otherwise) implements JinjaExpr {}
}
