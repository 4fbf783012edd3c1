package io.sparkmm.engine.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkmm.engine.template.JinjaExpr.And;
import io.sparkmm.engine.template.JinjaExpr.Binary;
import io.sparkmm.engine.template.JinjaExpr.Call;
import io.sparkmm.engine.template.JinjaExpr.Compare;
import io.sparkmm.engine.template.JinjaExpr.Concat;
import io.sparkmm.engine.template.JinjaExpr.CondExpr;
import io.sparkmm.engine.template.JinjaExpr.Const;
import io.sparkmm.engine.template.JinjaExpr.Filter;
import io.sparkmm.engine.template.JinjaExpr.Getattr;
import io.sparkmm.engine.template.JinjaExpr.ListOf;
import io.sparkmm.engine.template.JinjaExpr.Name;
import io.sparkmm.engine.template.JinjaExpr.Not;
import io.sparkmm.engine.template.JinjaExpr.Or;
import io.sparkmm.engine.template.JinjaExpr.Slice;
import io.sparkmm.engine.template.JinjaExpr.Test;
import io.sparkmm.engine.template.JinjaExpr.Unary;
import java.util.List;
import java.util.Map;

/** jinja2's precedence, read off {@code jinja2/parser.py}: each tree is what jinja2 builds. */
class JinjaParserTest {

    private static final Name X = new Name("x");
    private static final Name A = new Name("a");
    private static final Name B = new Name("b");
    private static final Name C = new Name("c");

    private static JinjaExpr parse(String s) {
        return JinjaParser.parse(s);
    }

    @org.junit.jupiter.api.Test
    void testsBindTighterThanNot() {
        // DeepSeek-V3: {% if not add_generation_prompt is defined %} means not (x is defined)
        assertThat(parse("not x is defined")).isEqualTo(new Not(new Test(X, "defined", List.of())));
        assertThat(parse("x is not none")).isEqualTo(new Not(new Test(X, "none", List.of())));
        assertThat(parse("not a in b")).isEqualTo(new Not(new Compare(A, List.of("in"), List.of(B))));
        assertThat(parse("a not in b")).isEqualTo(new Compare(A, List.of("notin"), List.of(B)));
        assertThat(parse("x is divisibleby 3")).isEqualTo(new Test(X, "divisibleby", List.of(new Const(3L))));
    }

    @org.junit.jupiter.api.Test
    void filtersBindTighterThanArithmeticButUnaryMinusIsInside() {
        Filter length = new Filter(B, "length", List.of(), Map.of());
        assertThat(parse("a + b|length")).isEqualTo(new Binary("+", A, length));
        // jinja2 parses the operand of unary minus without filters, then filters the negation
        assertThat(parse("-x|abs")).isEqualTo(new Filter(new Unary("-", X), "abs", List.of(), Map.of()));
        assertThat(parse("a ~ b + c")).isEqualTo(new Binary("+", new Concat(List.of(A, B)), C));
        assertThat(parse("a * b ** c")).isEqualTo(new Binary("*", A, new Binary("**", B, C)));
    }

    @org.junit.jupiter.api.Test
    void booleanOperatorsAndConditionals() {
        assertThat(parse("a or b and c")).isEqualTo(new Or(A, new And(B, C)));
        assertThat(parse("a if b else c if x")).isEqualTo(new CondExpr(B, A, new CondExpr(X, C, null)));
        assertThat(parse("a < b < c")).isEqualTo(new Compare(A, List.of("<", "<"), List.of(B, C)));
    }

    @org.junit.jupiter.api.Test
    void literals() {
        assertThat(parse("'a\\n' \"b\\u00e9\" '\\x41'")).isEqualTo(new Const("a\nbéA"));
        assertThat(parse("'\\q'")).isEqualTo(new Const("\\q"));
        assertThat(parse("1_000")).isEqualTo(new Const(1000L));
        assertThat(parse("0x1F")).isEqualTo(new Const(31L));
        assertThat(parse("1.5e3")).isEqualTo(new Const(1500.0));
        assertThat(parse("None")).isEqualTo(new Const(null));
        assertThat(parse("(1,)")).isEqualTo(new ListOf(List.of(new Const(1L)), true));
        assertThat(parse("[1]")).isEqualTo(new ListOf(List.of(new Const(1L)), false));
    }

    @org.junit.jupiter.api.Test
    void postfixSlicesAndCalls() {
        assertThat(parse("x[::-1]")).isEqualTo(new Slice(X, null, null, new Unary("-", new Const(1L))));
        assertThat(parse("x.y(a, k=b)")).isEqualTo(new Call(new Getattr(X, "y"), List.of(A), Map.of("k", B)));
    }

    @org.junit.jupiter.api.Test
    void syntaxErrorsNameTheExpression() {
        assertThatThrownBy(() -> parse("a +")).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("a +");
        assertThatThrownBy(() -> parse("x is defined is string")).isInstanceOf(ChatTemplateException.class);
        assertThatThrownBy(() -> parse("f(k=1, 2)")).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("positional argument follows keyword argument");
    }
}
