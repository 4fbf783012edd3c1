package io.sparkmm.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExpressionRewriterTest {

    @Test
    void slicesBecomeSliceCalls() {
        assertThat(ExpressionRewriter.rewrite("for m in messages[::-1]"))
                .isEqualTo("for m in __py_slice(messages, none, none, -1)");
        assertThat(ExpressionRewriter.rewrite("m.content.split('</think>')[1:][0]"))
                .isEqualTo("__py_slice(m.content.split('</think>'), 1, none, none)[0]");
        assertThat(ExpressionRewriter.rewrite("x in [1, 2][a:b]"))
                .isEqualTo("x in __py_slice([1, 2], a, b, none)");
        assertThat(ExpressionRewriter.rewrite("'[1:2]' ~ xs[i - 1]")).isEqualTo("'[1:2]' ~ xs[i - 1]");
    }

    @Test
    void compoundKeywordArgumentsAreParenthesised() {
        assertThat(ExpressionRewriter.rewrite("set ns = namespace(k=messages|length - 1, b=true)"))
                .isEqualTo("set ns = namespace(k=(messages|length - 1), b=true)");
        assertThat(ExpressionRewriter.rewrite("f(a == b, c)")).isEqualTo("f(a == b, c)");
    }

    @Test
    void pythonLiteralsAreLowerCased() {
        assertThat(ExpressionRewriter.rewrite("x is None or True or m.None"))
                .isEqualTo("x is none or true or m.None");
        assertThat(ExpressionRewriter.rewrite("m.empty or m.div")).isEqualTo("m['empty'] or m['div']");
    }
}
