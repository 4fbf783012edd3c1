package io.sparkmm.engine.template;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The statements of a template ({@code if}, {@code elif}, {@code for}, {@code set},
 * {@code macro}, ...) with their expressions compiled by {@link ExprCompiler}, in the syntax
 * jinjava runs; jinjava executes the statements themselves. One instance per template: it keeps
 * the open blocks, to tell a for-loop's {@code else} from an if's.
 */
final class StatementCompiler {

    private static final Pattern FOR = Pattern.compile("([\\w\\s,()]+?)\\s+in\\s+(.+)", Pattern.DOTALL);
    private static final Pattern MACRO = Pattern.compile("macro\\s+([A-Za-z_]\\w*)\\s*\\((.*)\\)\\s*", Pattern.DOTALL);
    private static final Pattern SET = Pattern.compile("([A-Za-z_]\\w*(?:\\s*[.,]\\s*[A-Za-z_]\\w*)*)\\s*=(?!=)(.+)",
            Pattern.DOTALL);

    /** An open block: its tag name and, for a loop, its compiled sequence (for a for-else). */
    private static final class Block {
        final String name;
        final String sequence;
        final String filtered; // for a filter block: the variable its body is captured in
        final String filters;
        boolean inElse;

        Block(String name, String sequence, String filtered, String filters) {
            this.name = name;
            this.sequence = sequence;
            this.filtered = filtered;
            this.filters = filters;
        }
    }

    private final Deque<Block> open = new ArrayDeque<>();
    private int filterBlocks;

    /**
     * A {@code {% name ... %}} tag as jinjava should run it, with its expressions compiled; tags
     * jinjava lacks ({@code for ... else}, {@code filter}) become equivalent ones.
     */
    String compile(String name, String body) {
        String rest = body.substring(name.length()).strip();
        switch (name) {
            case "if" -> {
                open.push(new Block(name, null, null, null));
                return tag("if " + ExprCompiler.condition(rest));
            }
            case "elif" -> {
                return tag("elif " + ExprCompiler.condition(rest));
            }
            case "else" -> {
                Block b = open.peek();
                if (b != null && "for".equals(b.name)) {
                    // jinja2's for-else runs when the loop ran no iteration; jinjava has no such branch
                    b.inElse = true;
                    return tag("endfor") + tag("if !" + PyRuntime.PREFIX + "bool(" + b.sequence + ")");
                }
                return tag(body);
            }
            case "for" -> {
                Matcher m = FOR.matcher(rest);
                if (!m.matches()) {
                    throw new ChatTemplateException("chat template syntax error: expected 'for x in y', got '"
                            + body + "'");
                }
                String targets = m.group(1).strip();
                String sequence = loopSequence(targets, m.group(2), body);
                open.push(new Block(name, sequence, null, null));
                return tag("for " + targets + " in " + sequence);
            }
            case "endfor" -> {
                Block b = open.poll();
                return tag(b != null && b.inElse ? "endif" : body);
            }
            case "set" -> {
                Matcher m = SET.matcher(rest);
                if (!m.matches()) {
                    open.push(new Block(name, null, null, null)); // a block set, closed by endset
                    return tag(body);
                }
                return tag("set " + m.group(1).strip() + " = " + assignment(m.group(1), m.group(2)));
            }
            case "filter" -> {
                // the body is captured by a block set, then filtered as an expression
                String variable = PyRuntime.PREFIX + "filter_block" + filterBlocks++;
                open.push(new Block(name, null, variable, rest));
                return tag("set " + variable);
            }
            case "endfilter" -> {
                Block b = open.poll();
                if (b == null || b.filtered == null) {
                    throw new ChatTemplateException("chat template syntax error: unexpected endfilter");
                }
                return tag("endset") + "{{ " + ExprCompiler.output(b.filtered + "|" + b.filters) + " }}";
            }
            case "macro", "call" -> {
                open.push(new Block(name, null, null, null));
                return tag("macro".equals(name) ? macro(body) : body);
            }
            case "endif", "endset", "endmacro", "endcall" -> {
                open.poll();
                return tag(body);
            }
            case "with" -> throw new ChatTemplateException("chat template: the 'with' tag is not supported");
            default -> {
                return tag(body);
            }
        }
    }

    private static String tag(String body) {
        return "{% " + body + " %}";
    }

    /** The compiled sequence of {@code for targets in sequence [if condition]}. */
    private static String loopSequence(String targets, String sequence, String body) {
        if (topLevelWord(sequence, "recursive") >= 0) {
            throw new ChatTemplateException("chat template: recursive loops are not supported: '" + body + "'");
        }
        int filter = topLevelWord(sequence, "if");
        if (filter >= 0) {
            return PyRuntime.PREFIX + "loopfilter(" + ExprCompiler.value(sequence.substring(0, filter)) + ", "
                    + ExprCompiler.quote(targets) + ", "
                    + ExprCompiler.quote(ExprCompiler.condition(sequence.substring(filter + 2))) + ")";
        }
        return PyRuntime.PREFIX + "iter(" + ExprCompiler.value(sequence) + ")";
    }

    /**
     * The right side of a set. jinjava unpacks {@code set a, b = x, y} from a comma-separated
     * list of values, so a tuple target gets one value per name.
     */
    private static String assignment(String targets, String expression) {
        int names = targets.split(",").length;
        if (names == 1) {
            return ExprCompiler.value(expression);
        }
        JinjaExpr e = JinjaParser.parse(expression);
        List<String> values = new ArrayList<>();
        if (e instanceof JinjaExpr.ListOf l) {
            if (l.items().size() != names) {
                throw new ChatTemplateException("cannot unpack " + l.items().size() + " values into " + names
                        + " names: '" + targets + " = " + expression.strip() + "'");
            }
            l.items().forEach(item -> values.add(ExprCompiler.value(item)));
        } else {
            String value = ExprCompiler.value(e);
            for (int i = 0; i < names; i++) {
                values.add(PyRuntime.PREFIX + "item(" + value + ", " + i + ")");
            }
        }
        return String.join(", ", values);
    }

    /**
     * jinjava evaluates a macro's default values itself, with its own EL and after cutting the
     * parameter list at the first ")": Python literals are therefore rewritten as EL literals
     * ({@code True} would otherwise be an undefined name, i.e. false); anything else is left as is.
     */
    private static String macro(String body) {
        Matcher m = MACRO.matcher(body);
        if (!m.matches()) {
            return body;
        }
        List<String> params = new ArrayList<>();
        for (String param : splitTopLevel(m.group(2))) {
            int eq = param.indexOf('=');
            if (eq < 0) {
                params.add(param.strip());
                continue;
            }
            String value = param.substring(eq + 1).strip();
            JinjaExpr e = JinjaParser.parse(value);
            if (e instanceof JinjaExpr.Unary u && "-".equals(u.op()) && u.operand() instanceof JinjaExpr.Const c
                    && c.value() instanceof Number) {
                value = "-" + c.value();
            } else if (e instanceof JinjaExpr.Const c) {
                value = c.value() instanceof String str ? ExprCompiler.quote(str) : String.valueOf(c.value());
            } else if (e instanceof JinjaExpr.ListOf l && l.items().isEmpty()) {
                value = "[]";
            } else if (e instanceof JinjaExpr.DictOf d && d.keys().isEmpty()) {
                value = "{}";
            }
            params.add(param.substring(0, eq).strip() + "=" + value);
        }
        return "macro " + m.group(1) + "(" + String.join(", ", params) + ")";
    }

    /** Splits at commas outside brackets and strings. */
    private static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ',' && balanced(s.substring(from, i))) {
                parts.add(s.substring(from, i));
                from = i + 1;
            }
        }
        if (!s.substring(from).isBlank()) {
            parts.add(s.substring(from));
        }
        return parts;
    }

    /** Where {@code word} occurs as a name outside brackets (a loop filter's "if"), or -1. */
    private static int topLevelWord(String expression, String word) {
        Matcher m = Pattern.compile("\\b" + word + "\\b").matcher(expression);
        while (m.find()) {
            // a match counts only where the expression before it is balanced and outside strings
            if (balanced(expression.substring(0, m.start()))) {
                return m.start();
            }
        }
        return -1;
    }

    private static boolean balanced(String prefix) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if ("([{".indexOf(c) >= 0) {
                depth++;
            } else if (")]}".indexOf(c) >= 0) {
                depth--;
            }
        }
        return depth == 0 && quote == 0;
    }
}
