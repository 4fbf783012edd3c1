package io.sparkmm.connector.generate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A prompt with {@code {column}} slots. {@code {{} } and {@code }}} are literal braces. Parsed once
 * on the driver so a malformed template or an unknown column fails before any task runs.
 */
public final class PromptTemplate implements Serializable {

    private final List<String> literals = new ArrayList<>();   // literals.size() == slots.size() + 1
    private final List<String> slots = new ArrayList<>();

    public PromptTemplate(String template) {
        StringBuilder lit = new StringBuilder();
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '{' && i + 1 < template.length() && template.charAt(i + 1) == '{') {
                lit.append('{');
                i++;
            } else if (c == '}' && i + 1 < template.length() && template.charAt(i + 1) == '}') {
                lit.append('}');
                i++;
            } else if (c == '{') {
                int end = template.indexOf('}', i);
                if (end < 0) {
                    throw new IllegalArgumentException("sparkmm: promptTemplate has an unclosed '{' at " + i + ": " + template);
                }
                String name = template.substring(i + 1, end).trim();
                if (name.isEmpty()) {
                    throw new IllegalArgumentException("sparkmm: promptTemplate has an empty {} slot at " + i);
                }
                literals.add(lit.toString());
                lit.setLength(0);
                slots.add(name);
                i = end;
            } else if (c == '}') {
                throw new IllegalArgumentException("sparkmm: promptTemplate has a stray '}' at " + i + " (write }} for a brace)");
            } else {
                lit.append(c);
            }
        }
        literals.add(lit.toString());
    }

    /** The columns the template reads. */
    public List<String> columns() {
        return List.copyOf(slots);
    }

    /** The literal text around the slots: one more than {@link #columns()}, the first before the first slot. */
    public List<String> literals() {
        return List.copyOf(literals);
    }

    /** Fills the slots; a null value is that row's error (a prompt with "null" in it would be a silent bug). */
    public String render(Function<String, Object> valueOf) {
        StringBuilder out = new StringBuilder(literals.get(0));
        for (int i = 0; i < slots.size(); i++) {
            Object v = valueOf.apply(slots.get(i));
            if (v == null) {
                throw new IllegalArgumentException("column '" + slots.get(i) + "' of promptTemplate is null");
            }
            out.append(v).append(literals.get(i + 1));
        }
        return out.toString();
    }
}
