package io.sparkmm.engine.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Python's str(), operators and truthiness on template values; expectations are CPython's. */
class PyValuesTest {

    @Test
    void strIsPythonsStr() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("k", 1L);
        m.put("n", null);
        m.put("l", List.of(true, 2.5, "x"));
        assertThat(PyRepr.str(m)).isEqualTo("{'k': 1, 'n': None, 'l': [True, 2.5, 'x']}");
        assertThat(PyRepr.str(List.of("a", "b"))).isEqualTo("['a', 'b']");
        assertThat(PyRepr.str(new PyTuple(List.of(1L)))).isEqualTo("(1,)");
        assertThat(PyRepr.str(null)).isEqualTo("None");
        assertThat(PyRepr.str(false)).isEqualTo("False");
        assertThat(PyRepr.str(1.0)).isEqualTo("1.0");
        assertThat(PyRepr.str(1e16)).isEqualTo("1e+16");
        assertThat(PyRepr.str(Double.NEGATIVE_INFINITY)).isEqualTo("-inf");
        assertThat(PyRepr.str(PyUndefined.name("x"))).isEmpty();
        assertThat(PyRepr.str("as is")).isEqualTo("as is");
    }

    @Test
    void reprOfStringsQuotesAndEscapesLikePython() {
        assertThat(PyRepr.repr("it's")).isEqualTo("\"it's\"");
        assertThat(PyRepr.repr("both ' and \"")).isEqualTo("'both \\' and \"'");
        assertThat(PyRepr.repr("tab\there\nnl\\")).isEqualTo("'tab\\there\\nnl\\\\'");
        assertThat(PyRepr.repr("\u0000\u007f\u00a0é\u200b😀")).isEqualTo("'\\x00\\x7f\\xa0é\\u200b😀'");
    }

    @Test
    void plusFollowsPythonTypes() {
        assertThat(PyOps.binary("+", "a", "b")).isEqualTo("ab");
        assertThat(PyOps.binary("+", 1L, 2.0)).isEqualTo(3.0);
        assertThat(PyOps.binary("+", true, 1L)).isEqualTo(2L);
        assertThat(PyOps.binary("+", List.of(1L), List.of(2L))).isEqualTo(List.of(1L, 2L));
        assertThatThrownBy(() -> PyOps.binary("+", "a", List.of("b"))).isInstanceOf(ChatTemplateException.class)
                .hasMessage("can only concatenate str (not \"list\") to str");
        assertThatThrownBy(() -> PyOps.binary("+", "a", null)).isInstanceOf(ChatTemplateException.class)
                .hasMessage("can only concatenate str (not \"NoneType\") to str");
        assertThatThrownBy(() -> PyOps.binary("+", 1L, "a")).isInstanceOf(ChatTemplateException.class)
                .hasMessage("unsupported operand type(s) for +: 'int' and 'str'");
        assertThatThrownBy(() -> PyOps.binary("+", PyUndefined.name("u"), "a"))
                .isInstanceOf(ChatTemplateException.class).hasMessage("'u' is undefined");
    }

    @Test
    void otherArithmetic() {
        assertThat(PyOps.binary("//", -7L, 2L)).isEqualTo(-4L);
        assertThat(PyOps.binary("%", 7L, -3L)).isEqualTo(-2L);
        assertThat(PyOps.binary("%", -7.5, 2L)).isEqualTo(0.5);
        assertThat(PyOps.binary("/", 7L, 2L)).isEqualTo(3.5);
        assertThat(PyOps.binary("*", 2L, "ab")).isEqualTo("abab");
        assertThat(PyOps.binary("**", 2L, 10L)).isEqualTo(1024L);
        assertThat(PyOps.binary("%", "%s-%d", new PyTuple(List.of("a", 3L)))).isEqualTo("a-3");
        assertThatThrownBy(() -> PyOps.binary("/", 1L, 0L)).hasMessage("division by zero");
    }

    @Test
    void truthinessIsPythons() {
        assertThat(PyOps.truthy("false")).isTrue();
        assertThat(PyOps.truthy("")).isFalse();
        assertThat(PyOps.truthy(0.0)).isFalse();
        assertThat(PyOps.truthy(List.of())).isFalse();
        assertThat(PyOps.truthy(Map.of())).isFalse();
        assertThat(PyOps.truthy(null)).isFalse();
        assertThat(PyOps.truthy(PyUndefined.name("x"))).isFalse();
    }

    @Test
    void equalityAndMembershipDoNotCoerce() {
        assertThat(PyOps.eq(1L, "1")).isFalse();
        assertThat(PyOps.eq(1L, 1.0)).isTrue();
        assertThat(PyOps.eq(true, 1L)).isTrue();
        assertThat(PyOps.eq(List.of(1L), new PyTuple(List.of(1L)))).isFalse();
        assertThat(PyOps.in("at", "cat")).isTrue();
        assertThat(PyOps.in(1.0, List.of(1L))).isTrue();
        assertThat(PyOps.in("x", PyUndefined.name("u"))).isFalse();
        assertThatThrownBy(() -> PyOps.in("x", null)).hasMessage("argument of type 'NoneType' is not iterable");
        assertThatThrownBy(() -> PyOps.in(1L, "abc"))
                .hasMessage("'in <string>' requires string as left operand, not int");
        assertThatThrownBy(() -> PyOps.compare("<", "a", 1L))
                .hasMessage("'<' not supported between instances of 'str' and 'int'");
    }

    @Test
    void iterationLikeAForLoop() {
        assertThat(PyOps.iterate("a😀")).containsExactly("a", "😀");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", 1);
        m.put("a", 2);
        assertThat(PyOps.iterate(m)).containsExactly("b", "a");
        assertThat(PyOps.iterate(PyUndefined.name("u"))).isEmpty();
        List<Object> withNone = new ArrayList<>(Arrays.asList(1L, null));
        assertThat(PyOps.iterate(withNone)).containsExactly(1L, null);
        assertThatThrownBy(() -> PyOps.iterate(null)).hasMessage("'NoneType' object is not iterable");
        assertThatThrownBy(() -> PyOps.iterate(5L)).hasMessage("'int' object is not iterable");
    }
}
