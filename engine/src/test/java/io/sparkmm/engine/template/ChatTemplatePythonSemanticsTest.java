package io.sparkmm.engine.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One test per place where the engine used to render differently from Python Jinja2 (found by
 * {@link Jinja2ConformanceTest}); expected values worked out from Python's semantics.
 */
class ChatTemplatePythonSemanticsTest {

    private static final List<Map<String, Object>> USER = List.of(message("user", "Hi"));

    private static Map<String, Object> message(String role, Object content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    private static String render(String template, List<Map<String, Object>> messages, boolean generationPrompt,
            Map<String, Object> extra) {
        return new ChatTemplate(template).render(messages, generationPrompt, extra);
    }

    private static String render(String template, Map<String, Object> extra) {
        return render(template, USER, false, extra);
    }

    private static String render(String template) {
        return render(template, Map.of());
    }

    @Test
    void notBindsLooserThanIsSoDeepSeeksGenerationPromptStays() {
        String deepseek = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}"
                + "{% endif %}{% for m in messages %}<U>{{ m['content'] }}{% endfor %}"
                + "{% if add_generation_prompt %}<A>{% endif %}";
        assertThat(render(deepseek, USER, true, Map.of())).isEqualTo("<U>Hi<A>");
        assertThat(render(deepseek, USER, false, Map.of())).isEqualTo("<U>Hi");
        assertThat(render("{{ not x is defined }}|{{ not messages is defined }}")).isEqualTo("True|False");
    }

    @Test
    void printedValuesArePythonsStr() {
        assertThat(render("{{ ['a', 'b'] }}|{{ {'k': 1} }}|{{ true }}|{{ none }}|{{ 2.0 }}|{{ (1, 'x') }}"))
                .isEqualTo("['a', 'b']|{'k': 1}|True|None|2.0|(1, 'x')");
        Map<String, Object> text = new LinkedHashMap<>(); // dicts print in insertion order
        text.put("type", "text");
        text.put("text", "it's");
        List<Map<String, Object>> parts = List.of(message("user", List.of(Map.of("type", "image"), text)));
        // a string template fed content parts prints them as Python does (Llama 3's "| trim")
        assertThat(render("{{ messages[0]['content'] | trim }}", parts, false, Map.of()))
                .isEqualTo("[{'type': 'image'}, {'type': 'text', 'text': \"it's\"}]");
    }

    @Test
    void concatenatingAStringAndANonStringRaises() {
        List<Map<String, Object>> parts = List.of(message("user", List.of(Map.of("type", "text", "text", "x"))));
        assertThatThrownBy(() -> render("{{ '<U>' + messages[0]['content'] }}", parts, false, Map.of()))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("can only concatenate str (not \"list\") to str");
        assertThatThrownBy(() -> render("{{ 'n=' + 3 }}")).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("can only concatenate str (not \"int\") to str");
        assertThat(render("{{ 'n=' ~ 3 ~ [1] }}")).isEqualTo("n=3[1]");
    }

    @Test
    void noneAndUndefinedDiffer() {
        Map<String, Object> extra = new HashMap<>();
        extra.put("n", null);
        assertThat(render("[{{ n }}][{{ u }}][{{ n is defined }}][{{ u is defined }}][{{ n|trim }}][{{ u|trim }}]"
                + "[{{ n|default('d') }}][{{ u|default('d') }}][{{ bos_token }}]", extra))
                .isEqualTo("[None][][True][False][None][][None][d][]");
        assertThatThrownBy(() -> render("{{ u.attr }}")).hasMessageContaining("'u' is undefined");
        assertThat(render("[{{ n.attr }}]", extra)).isEqualTo("[]");
        assertThatThrownBy(() -> render("{{ n.split() }}", extra))
                .hasMessageContaining("'None' has no attribute 'split'");
    }

    @Test
    void theStringFalseIsTrue() {
        // jinjava treats "false" as false; Python only the empty string
        assertThat(render("{% if c %}T{% else %}F{% endif %}{{ c and 'x' }}{{ '' or 'y' }}", Map.of("c", "false")))
                .isEqualTo("Txy");
    }

    @Test
    void iteratingNoneOrANumberRaises() {
        Map<String, Object> extra = new HashMap<>();
        extra.put("n", null);
        assertThatThrownBy(() -> render("{% for x in n %}{% endfor %}", extra))
                .hasMessageContaining("'NoneType' object is not iterable");
        assertThatThrownBy(() -> render("{% for x in 5 %}{% endfor %}"))
                .hasMessageContaining("'int' object is not iterable");
        assertThatThrownBy(() -> render("{{ 'x' in n }}", extra))
                .hasMessageContaining("argument of type 'NoneType' is not iterable");
        assertThat(render("{% for c in 'ab' %}[{{ c }}]{% endfor %}{% for x in u %}never{% endfor %}"))
                .isEqualTo("[a][b]");
    }

    @Test
    void loopItemsThatAreNonePrintAsNone() {
        List<Object> xs = new ArrayList<>(Arrays.asList(1, null));
        assertThat(render("{% for x in xs %}{{ x }},{% endfor %}", Map.of("xs", xs))).isEqualTo("1,None,");
    }

    @Test
    void loopFiltersCountOnlyTheKeptItems() {
        assertThat(render("{% for x in [1, none, 2] if x is not none %}{{ loop.index }}:{{ x }}"
                + "{{ '.' if loop.last }}{% endfor %}")).isEqualTo("1:12:2.");
    }

    @Test
    void macrosMayRecurse() {
        assertThat(render("{% macro depth(v) %}{% if v is mapping %}<{{ depth(v['in']) }}>{% else %}{{ v }}"
                + "{% endif %}{% endmacro %}{{ depth({'in': {'in': 1}}) }}")).isEqualTo("<<1>>");
    }

    @Test
    void bracesInsideTagsAndBeforeTags() {
        // "}}" of a nested dict does not end the tag; a "{" right before a tag is text
        assertThat(render("{{ {'a': {'b': 1}} }}")).isEqualTo("{'a': {'b': 1}}");
        assertThat(render("items:{\n  {%- if true %}x{% endif %}}")).isEqualTo("items:{x}");
    }

    @Test
    void filtersTakeStrOfTheirInput() {
        assertThat(render("{{ [1, 2]|join(', ') }}|{{ 42|string }}|{{ 'hello-wORLD (x)y'|title }}|{{ none|string }}"))
                .isEqualTo("1, 2|42|Hello-World (X)y|None");
        assertThatThrownBy(() -> render("{{ x|nosuchfilter }}")).hasMessageContaining("no filter named 'nosuchfilter'");
    }
}
