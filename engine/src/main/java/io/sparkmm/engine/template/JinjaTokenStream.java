package io.sparkmm.engine.template;

import io.sparkmm.engine.template.JinjaLexer.Kind;
import io.sparkmm.engine.template.JinjaLexer.Token;
import java.util.List;

/** The cursor over one expression's tokens that {@link JinjaParser} reads with. */
abstract class JinjaTokenStream {

    private final List<Token> toks;
    private final String source;
    int pos;

    JinjaTokenStream(String source) {
        this.source = source;
        this.toks = JinjaLexer.tokenize(source);
    }

    void expectEnd() {
        if (peek().kind() != Kind.END) {
            throw fail("unexpected '" + peek().text() + "'");
        }
    }

    Token peek() {
        return peek(0);
    }

    Token peek(int ahead) {
        return toks.get(Math.min(pos + ahead, toks.size() - 1));
    }

    Token next() {
        Token t = peek();
        if (t.kind() == Kind.END) {
            throw fail("unexpected end of expression");
        }
        pos++;
        return t;
    }

    boolean accept(String op) {
        if (peek().is(op)) {
            pos++;
            return true;
        }
        return false;
    }

    boolean acceptName(String name) {
        if (peek().isName(name)) {
            pos++;
            return true;
        }
        return false;
    }

    void expect(String op) {
        if (!accept(op)) {
            throw fail("expected '" + op + "', got '" + peek().text() + "'");
        }
    }

    ChatTemplateException fail(String what) {
        return new ChatTemplateException("chat template syntax error: " + what + " in '" + source + "'");
    }
}
