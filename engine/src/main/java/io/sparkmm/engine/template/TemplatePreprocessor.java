package io.sparkmm.engine.template;

import java.util.Set;

/**
 * Turns a Hugging Face chat template (Python jinja2 syntax, as transformers configures it) into
 * the jinjava dialect before parsing, the way {@code @huggingface/jinja} normalises templates:
 *
 * <ul>
 *   <li>whitespace control is resolved here, on the source text, with jinja2's rules for
 *       {@code trim_blocks=True}, {@code lstrip_blocks=True} and the {@code -} / {@code +}
 *       markers, so jinjava's own (different) trimming can stay off;
 *   <li>newlines are normalised to {@code \n} and one trailing newline is dropped
 *       ({@code keep_trailing_newline=False});
 *   <li>comments and transformers' {@code {% generation %}} markers are removed;
 *   <li>expressions are parsed with jinja2's grammar and printed as calls into Python's
 *       semantics: every {@code {{ }}} output by {@link ExprCompiler}, the statements by
 *       {@link StatementCompiler};
 *   <li>literal text that jinjava would take for a tag start ({@code {} before a tag) is
 *       printed through an expression;
 *   <li>{@code include}, {@code import}, {@code from} and {@code extends} are refused outright.
 * </ul>
 */
final class TemplatePreprocessor {


    /** Tags that would reach outside the template; refused even though jinjava disables them too. */
    private static final Set<String> FORBIDDEN_TAGS = Set.of("include", "import", "from", "extends");

    /** transformers' AssistantTracker tags: they only mark spans, the content renders as usual. */
    private static final Set<String> DROPPED_TAGS = Set.of("generation", "endgeneration");

    private TemplatePreprocessor() {}

    static String preprocess(String source) {
        String src = source.replace("\r\n", "\n").replace('\r', '\n');
        if (src.endsWith("\n")) {
            src = src.substring(0, src.length() - 1);
        }
        StringBuilder out = new StringBuilder(src.length() + 64);
        StatementCompiler statements = new StatementCompiler();
        StringBuilder text = new StringBuilder(); // pending text before the next tag
        boolean lineStarting = true; // pending text begins at the start of a line
        boolean trimNext = false; // previous tag asked to strip the whitespace that follows
        boolean newlineNext = false; // previous block tag removes one newline that follows (trim_blocks)
        int pos = 0;
        while (pos < src.length()) {
            int open = nextTagStart(src, pos);
            String chunk = src.substring(pos, open < 0 ? src.length() : open);
            if (trimNext) {
                chunk = stripLeading(chunk);
            } else if (newlineNext && chunk.startsWith("\n")) {
                chunk = chunk.substring(1);
            }
            text.append(chunk);
            trimNext = false;
            newlineNext = false;
            if (open < 0) {
                break;
            }
            Tag tag = Tag.scan(src, open);
            // Whitespace before the tag.
            if (tag.stripBefore) {
                rstrip(text);
            } else if (tag.kind != '{' && !tag.keepBefore) {
                lstripBlock(text, lineStarting);
            }
            appendText(out, text);
            text.setLength(0);
            pos = tag.end;
            String name = tag.name();
            if (tag.kind == '%' && "raw".equals(name)) {
                pos = copyRaw(src, pos, out);
                lineStarting = false;
                continue;
            }
            if (tag.kind == '%' && FORBIDDEN_TAGS.contains(name)) {
                throw new ChatTemplateException("the '" + name + "' tag is not allowed in chat templates"
                        + " (line " + lineOf(src, open) + ")");
            }
            if (tag.kind == '{') {
                out.append("{{ ").append(ExprCompiler.output(tag.body)).append(" }}");
            } else if (tag.kind == '%' && !DROPPED_TAGS.contains(name)) {
                out.append(statements.compile(name, tag.body));
            }
            // Whitespace after the tag.
            trimNext = tag.stripAfter;
            newlineNext = tag.kind != '{' && !tag.keepAfter && !tag.stripAfter;
            lineStarting = (newlineNext && src.startsWith("\n", pos))
                    || (trimNext && endsWithNewlineRun(src, pos));
        }
        appendText(out, text);
        return out.toString();
    }

    private static int nextTagStart(String src, int from) {
        int i = src.indexOf('{', from);
        while (i >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i = src.indexOf('{', i + 1);
        }
        return -1;
    }

    /**
     * Literal text, with every "{" that jinjava would read as the start of a tag printed through
     * an expression instead: one before "{", "%" or "#", or at the end, where the next tag
     * follows ("items:{" then "{%- set ..." gives "items:{{% set" once whitespace is stripped).
     */
    private static void appendText(StringBuilder out, CharSequence text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean opensTag = c == '{' && (i + 1 == text.length() || "{%#".indexOf(text.charAt(i + 1)) >= 0);
            if (opensTag) {
                out.append("{{ '{' }}");
            } else {
                out.append(c);
            }
        }
    }

    /** Copies a raw block verbatim up to and including its end tag; returns the position after. */
    private static int copyRaw(String src, int pos, StringBuilder out) {
        int i = pos;
        while (true) {
            int open = src.indexOf("{%", i);
            if (open < 0) {
                throw new ChatTemplateException("unclosed {% raw %} block in chat template");
            }
            Tag tag = Tag.scan(src, open);
            if ("endraw".equals(tag.name())) {
                String content = src.substring(pos, open);
                appendText(out, tag.stripBefore ? content.stripTrailing() : content);
                return tag.end;
            }
            i = open + 2;
        }
    }

    /** lstrip_blocks: drop spaces and tabs between the line start and a block or comment tag. */
    private static void lstripBlock(StringBuilder text, boolean lineStarting) {
        int lineStart = text.lastIndexOf("\n") + 1;
        if (lineStart == 0 && !lineStarting) {
            return;
        }
        for (int i = lineStart; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != ' ' && c != '\t') {
                return;
            }
        }
        text.setLength(lineStart);
    }

    private static void rstrip(StringBuilder text) {
        int end = text.length();
        while (end > 0 && Character.isWhitespace(text.charAt(end - 1))) {
            end--;
        }
        text.setLength(end);
    }

    private static String stripLeading(String s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return s.substring(i);
    }

    /** After a {@code -%}}, the next text starts a line if the stripped whitespace ended in one. */
    private static boolean endsWithNewlineRun(String src, int pos) {
        int i = pos;
        boolean newline = false;
        while (i < src.length() && Character.isWhitespace(src.charAt(i))) {
            newline = src.charAt(i) == '\n';
            i++;
        }
        return newline;
    }

    static int lineOf(String src, int offset) {
        int line = 1;
        for (int i = 0; i < offset && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    /** One {@code {{ }}}, {@code {% %}} or {@code {# #}} tag with its whitespace markers. */
    private static final class Tag {
        char kind; // '{', '%' or '#'
        String body;
        int end;
        boolean stripBefore; // {%-
        boolean keepBefore; // {%+ : no lstrip_blocks
        boolean stripAfter; // -%}
        boolean keepAfter; // +%} : no trim_blocks

        String name() {
            int i = 0;
            while (i < body.length() && (Character.isLetterOrDigit(body.charAt(i))
                    || body.charAt(i) == '_')) {
                i++;
            }
            return body.substring(0, i);
        }

        static Tag scan(String src, int open) {
            Tag t = new Tag();
            t.kind = src.charAt(open + 1);
            char close = t.kind == '{' ? '}' : t.kind;
            int i = open + 2;
            if (i < src.length() && (src.charAt(i) == '-' || src.charAt(i) == '+')) {
                t.stripBefore = src.charAt(i) == '-';
                t.keepBefore = src.charAt(i) == '+';
                i++;
            }
            int bodyStart = i;
            char quote = 0;
            int depth = 0; // open brackets: jinja2 reads "}}" inside {'a': {'b': 1}} as two braces
            while (i + 1 < src.length()) {
                char c = src.charAt(i);
                if (t.kind != '#' && quote != 0) {
                    if (c == '\\') {
                        i += 2;
                        continue;
                    }
                    if (c == quote) {
                        quote = 0;
                    }
                } else if (t.kind != '#' && (c == '\'' || c == '"')) {
                    quote = c;
                } else if (t.kind != '#' && (c == '(' || c == '[' || c == '{')) {
                    depth++;
                } else if (t.kind != '#' && depth > 0 && (c == ')' || c == ']' || c == '}')) {
                    depth--;
                } else if (c == close && src.charAt(i + 1) == '}') {
                    int bodyEnd = i;
                    char before = src.charAt(i - 1);
                    if (i - 1 >= bodyStart && (before == '-' || before == '+')) {
                        t.stripAfter = before == '-';
                        t.keepAfter = before == '+';
                        bodyEnd--;
                    }
                    t.body = src.substring(bodyStart, bodyEnd).strip();
                    t.end = i + 2;
                    return t;
                }
                i++;
            }
            throw new ChatTemplateException("unclosed '{" + t.kind + "' at line " + lineOf(src, open)
                    + " of the chat template");
        }
    }
}
