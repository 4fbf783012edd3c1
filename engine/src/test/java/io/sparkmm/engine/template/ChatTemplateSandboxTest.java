package io.sparkmm.engine.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Templates come with downloaded checkpoints: they must not reach Java, files or the heap. */
class ChatTemplateSandboxTest {

    private static String render(String template, List<Map<String, Object>> messages) {
        return new ChatTemplate(template).render(messages, false, Map.of());
    }

    private static List<Map<String, Object>> messages() {
        List<Map<String, Object>> messages = new ArrayList<>();
        messages.add(ChatMessage.user("hi").toMap());
        return messages;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{{ ''.getClass() }}",
            "{{ ''.getBytes() }}",
            "{{ messages.clear() }}",
            "{{ messages.append(1) }}",
            "{{ messages[0].put('role', 'x') }}",
            "{{ messages[0].clear() }}",
            "{{ loop_var.getClass().forName('java.lang.Runtime') }}",
            "{% set x = messages.pop() %}",
            "{{ 'a'.split('a').getClass() }}",
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    })
    void javaMethodsCannotBeCalled(String template) {
        List<Map<String, Object>> messages = messages();
        String output;
        try {
            output = render(template, messages);
        } catch (ChatTemplateException e) {
            output = "";
        }
        // Either refused or rendered as undefined; never a Java object, never a mutation.
        assertThat(output).doesNotContain("java").doesNotContain("class");
        assertThat(messages).containsExactly(ChatMessage.user("hi").toMap());
    }

    @Test
    void methodCallsFailLoudly() {
        assertThatThrownBy(() -> render("{{ ''.getClass() }}", messages()))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("getClass");
        assertThatThrownBy(() -> render("{{ messages.clear() }}", messages()))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("clear");
    }

    @Test
    void propertiesOfJavaObjectsAreUndefined() {
        assertThat(render("[{{ ''.class }}][{{ messages.class }}][{{ messages.empty }}]",
                messages())).isEqualTo("[][][]");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{% include 'x' %}",
            "{% include '/etc/passwd' %}",
            "{% import 'macros.j2' as m %}",
            "{% from 'x' import y %}",
            "{% extends 'base' %}",
    })
    void nothingCanBeLoaded(String template) {
        assertThatThrownBy(() -> new ChatTemplate(template).render(messages(), false, Map.of()))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("not allowed");
    }

    @Test
    void hugeRangesAreRefused() {
        assertThatThrownBy(() -> render("{% for i in range(100000000) %}x{% endfor %}", messages()))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("range");
        assertThat(render("{{ range(3)|join(',') }} {{ range(1, 7, 2)|join(',') }}"
                + " {{ range(3, 0, -1)|join(',') }}", messages())).isEqualTo("0,1,2 1,3,5 3,2,1");
    }

    @Test
    void outputIsBounded() {
        String chunk = "x".repeat(1 << 20);
        assertThatThrownBy(() -> new ChatTemplate("{% for i in range(40) %}{{ chunk }}{% endfor %}")
                .render(messages(), false, Map.of("chunk", chunk)))
                .isInstanceOf(ChatTemplateException.class);
    }

    @Test
    void theRuntimesEntryPointsAreNotTemplateGlobals() {
        // __py_loopfilter evaluates an EL string; only compiled templates may produce one
        assertThatThrownBy(() -> render("{{ __py_loopfilter(messages, 'm', \"''.getClass()\") }}", messages()))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("'__py_loopfilter' is undefined");
        assertThatThrownBy(() -> render("{{ __py_var('messages') }}", messages()))
                .isInstanceOf(ChatTemplateException.class);
    }

    @Test
    void renderFilterIsDisabled() {
        assertThatThrownBy(() -> render("{{ '{{ 1 + 1 }}'|render }}", messages()))
                .isInstanceOf(ChatTemplateException.class);
    }
}
