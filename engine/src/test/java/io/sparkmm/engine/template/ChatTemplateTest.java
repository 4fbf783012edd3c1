package io.sparkmm.engine.template;

import io.sparkmm.engine.tokenizer.TokenizerConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Template features HF chat templates use, with outputs worked out from jinja2's rules and
 * checked against Python Jinja2 (which prints booleans as True/False, unlike @huggingface/jinja).
 */
class ChatTemplateTest {

    private static final List<Map<String, Object>> MESSAGES = List.of(
            ChatMessage.system("sys").toMap(),
            ChatMessage.user("hi").toMap(),
            ChatMessage.assistant("<think>\nhmm\n</think>\n\nhello").toMap());

    private static String render(String template) {
        return render(template, Map.of());
    }

    private static String render(String template, Map<String, Object> extra) {
        return new ChatTemplate(template).render(MESSAGES, false, extra);
    }

    @Test
    void trimBlocksAndLstripBlocks() {
        assertThat(render("{% if true %}\n  hello\n{% endif %}\nbye\n")).isEqualTo("  hello\nbye");
        assertThat(render("  {% if true %}yes{% endif %}")).isEqualTo("yes");
        assertThat(render("{% for m in messages %}\n    {% if m.role == 'user' %}\n"
                + "        {{ m.content }}\n    {% endif %}\n{% endfor %}"))
                .isEqualTo("        hi\n");
        // lstrip_blocks leaves {{ }} alone; {%+ opts out.
        assertThat(render("  {{ 'a' }}\n  {%+ if true %}b{% endif %}")).isEqualTo("  a\n  b");
    }

    @Test
    void dashWhitespaceControl() {
        assertThat(render("x  \n {{- 'a' -}} \n  y")).isEqualTo("xay");
        assertThat(render("a\n{%- if true -%}\n  b  \n{%- endif %}\nc")).isEqualTo("abc");
        assertThat(render("{# comment #}\nkept{#- gone -#}  !")).isEqualTo("kept!");
    }

    @Test
    void newlinesAreNormalisedAndOneTrailingNewlineDropped() {
        assertThat(render("a\r\nb\n\n")).isEqualTo("a\nb\n");
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        ChatTemplate t = new ChatTemplate("{% if messages[0].role != 'user' %}"
                + "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}");
        assertThatThrownBy(() -> t.render(MESSAGES, true, Map.of()))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("Conversation roles must alternate user/assistant")
                .matches(e -> ((ChatTemplateException) e).raisedByTemplate());
    }

    @Test
    void strftimeNowUsesTheClock() {
        Clock clock = Clock.fixed(Instant.parse("2024-03-05T10:00:00Z"), ZoneOffset.UTC);
        ChatTemplate t = new ChatTemplate("Today: {{ strftime_now('%d %b %Y') }}").withClock(clock);
        assertThat(t.render(MESSAGES, false, Map.of())).isEqualTo("Today: 05 Mar 2024");
    }

    @Test
    void tojsonPrintsLikePython() {
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("name", "f");
        tool.put("args", new ArrayList<>(java.util.Arrays.asList(1, 2.5, true, null, "é\"\n",
                1e16, 0.0001, 100.0)));
        tool.put("empty", Map.of());
        assertThat(render("{{ tool|tojson }}", Map.of("tool", tool))).isEqualTo(
                "{\"name\": \"f\", \"args\": [1, 2.5, true, null, \"é\\\"\\n\", 1e+16, 0.0001, 100.0],"
                        + " \"empty\": {}}");
        assertThat(render("{{ {'b': [1], 'a': 2}|tojson(indent=2) }}")).isEqualTo(
                "{\n  \"b\": [\n    1\n  ],\n  \"a\": 2\n}");
        assertThat(render("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}"))
                .isEqualTo("{\"a\": 2, \"b\": 1}");
    }

    @Test
    void pythonStringMethods() {
        assertThat(render("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('bc') }}"
                + " {{ 'abc'.startswith(('x', 'a')) }}")).isEqualTo("True True True");
        assertThat(render("[{{ '  a b  '.strip() }}][{{ '\\n\\nx\\n'.lstrip('\\n') }}]"
                + "[{{ 'xxaxx'.rstrip('x') }}][{{ 'abcba'.strip('ab') }}]"))
                .isEqualTo("[a b][x\n][xxa][c]");
        assertThat(render("[{{ 'a</think>'.split('</think>')[-1] }}]"
                + "[{{ 'a</think>b'.split('</think>')[0] }}][{{ ' a  b '.split()|join(',') }}]"
                + "[{{ 'a,b,c'.split(',', 1)|join('|') }}]"))
                .isEqualTo("[][a][a,b][a|b,c]");
        assertThat(render("{{ 'MiXed'.upper() }} {{ 'MiXed'.lower() }} {{ \"they're bill's\".title() }}"
                + " {{ 'aXa'.replace('a', 'b') }}"))
                .isEqualTo("MIXED mixed They'Re Bill'S bXb");
        String thinking = "{%- set c = messages[2].content %}"
                + "{{- c.split('</think>')[-1].lstrip('\\n') }}|"
                + "{{- c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}";
        assertThat(render(thinking)).isEqualTo("hello|hmm");
    }

    @Test
    void slices() {
        assertThat(render("{% for m in messages[::-1] %}{{ m.role }} {% endfor %}"))
                .isEqualTo("assistant user system ");
        assertThat(render("{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'hello'[-3:] }}"
                + " {{ 'hello'[:-1] }} {{ 'hello'[::2] }}"))
                .isEqualTo("el olleh llo hell hlo");
        assertThat(render("{{ messages[1:]|map(attribute='role')|join(',') }}"
                + " {{ (messages|map(attribute='role')|list)[-2:][0] }}"))
                .isEqualTo("user,assistant user");
        assertThat(render("{{ messages[::-1][0].role }} {{ messages[0].content[1:] }}"))
                .isEqualTo("assistant ys");
    }

    @Test
    void namespaceWithExpressions() {
        assertThat(render("{% set ns = namespace(k=messages|length - 1, found=false) %}"
                + "{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}"
                + "{% set ns.k = loop.index0 %}{% endif %}{% endfor %}{{ ns.k }} {{ ns.found }}"))
                .isEqualTo("1 True");
        assertThat(render("{% set ns = namespace(last=messages|length - 1) %}{{ ns.last }}"))
                .isEqualTo("2");
    }

    @Test
    void testsAndLiterals() {
        Map<String, Object> extra = Map.of("tools", List.of(Map.of("a", 1)), "s", "x",
                "enable_thinking", false);
        assertThat(render("{{ s is string }} {{ tools is string }} {{ tools[0] is mapping }}"
                + " {{ s is defined }} {{ nope is defined }} {{ nope is not defined }}"
                + " {{ enable_thinking is false }} {{ s is not none }}", extra))
                .isEqualTo("True False True True False True True True");
        assertThat(render("{% if True and not False %}{{ None is none }}{% endif %}"))
                .isEqualTo("True");
    }

    @Test
    void dictItemsKeysValuesGet() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("a", 1);
        d.put("b", "x");
        assertThat(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"
                + "{{ d.keys()|join(',') }} {{ d.values()|join(',') }} {{ d.get('zz', 'dflt') }}"
                + " {{ d.get('a') }}", Map.of("d", d)))
                .isEqualTo("a=1;b=x;a,b 1,x dflt 1");
    }

    @Test
    void loopVariables() {
        assertThat(render("{% for m in messages %}{{ loop.index }}{{ loop.index0 }}"
                + "{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}"))
                .isEqualTo("10TrueFalse3|21FalseFalse3|32FalseTrue3|");
    }

    @Test
    void specialTokensAndExtrasAreInTheContext() {
        TokenizerConfig config = new TokenizerConfig("<s>", "</s>", null, "<unk>", true, false,
                null, java.util.OptionalLong.empty());
        ChatTemplate t = new ChatTemplate("{{ bos_token }}{% for m in messages %}[{{ m.role }}]"
                + "{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]"
                + "{% endif %}{{ pad_token }}", config.templateTokens());
        assertThat(t.renderChat(List.of(ChatMessage.user("hi")), true))
                .isEqualTo("<s>[user]hi</s>[assistant]");
        assertThatThrownBy(() -> t.render(MESSAGES, true, Map.of("messages", List.of())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("messages");
    }

    @Test
    void generationMarkersRenderTheirContent() {
        assertThat(render("{% generation %}a{% endgeneration %}b")).isEqualTo("ab");
    }
}
