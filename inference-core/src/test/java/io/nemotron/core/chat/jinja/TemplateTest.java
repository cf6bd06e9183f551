package io.nemotron.core.chat.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Focused interpreter cases. Expected strings were worked out by hand from jinja2's documented rules and
 * agree with Python jinja2 3.1 rendering under HF's settings (trim_blocks, lstrip_blocks, loopcontrols).
 */
class TemplateTest {

    private static String render(String template) {
        return Template.compile(template).render(Map.of());
    }

    private static String render(String template, Map<String, ?> vars) {
        return Template.compile(template).render(vars);
    }

    @Test
    void lstripBlocksRemovesIndentBeforeBlockTagsAndTrimBlocksTheNewlineAfter() {
        assertEquals("  x\nend", render("  {% if true %}\n  x\n  {% endif %}\nend"));
        assertEquals("a\n    1\n    2\nb", render("a\n    {% for i in [1, 2] %}\n    {{ i }}\n    {% endfor %}\nb"));
    }

    @Test
    void lstripOnlyAppliesAtLineStart() {
        // the spaces follow an expression on the same line, so they are not the start of a line
        assertEquals("1  y", render("{{ 1 }}  {% if true %}y{% endif %}"));
    }

    @Test
    void dashStripsAllWhitespaceOnThatSide() {
        assertEquals("A B CD", render("A  {{- ' B ' -}}  C {%- if true -%}  D  {%- endif %}"));
    }

    @Test
    void plusDisablesTrimBlocks() {
        assertEquals("k\nz", render("{%+ if true %}k{% endif +%}\nz"));
    }

    @Test
    void commentsFollowTheBlockWhitespaceRules() {
        assertEquals("x y", render("x {# note #}\n  {#- d -#}  y"));
    }

    @Test
    void oneTrailingNewlineOfTheSourceIsDropped() {
        assertEquals("a\n", render("a\n\n"));
    }

    @Test
    void subscriptsAndSlices() {
        assertEquals("bcdef|fedcba|[3, 4]|[1, 2, 3]|[1, 3, 5]|c|",
                render("{{ 'abcdef'[1:] }}|{{ 'abcdef'[::-1] }}|{{ [1,2,3,4][-2:] }}|{{ [1,2,3,4][:-1] }}"
                        + "|{{ [1,2,3,4,5][::2] }}|{{ 'abc'[-1] }}|{{ [1,2][5] }}"));
        assertEquals("x21systemU", render("{{ ({'a': 'x'}).a }}{{ [[1,2]][0][1] }}{{ {'k': [1]}['k'][0] }}"
                + "{{ ms[0]['role'] }}{{ ms[-1].content }}",
                Map.of("ms", List.of(Map.of("role", "system", "content", "S"), Map.of("role", "user", "content", "U")))));
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("a", java.util.Arrays.asList(1, 2.5, true, null));
        x.put("b", "é\"\n");
        x.put("c", Map.of());
        assertEquals("{\"a\": [1, 2.5, true, null], \"b\": \"é\\\"\\n\", \"c\": {}}", render("{{ x|tojson }}", Map.of("x", x)));

        Map<String, Object> y = new LinkedHashMap<>();
        y.put("a", List.of(1, Map.of("k", "v")));
        y.put("e", List.of());
        assertEquals("{\n  \"a\": [\n    1,\n    {\n      \"k\": \"v\"\n    }\n  ],\n  \"e\": []\n}",
                render("{{ x|tojson(indent=2) }}", Map.of("x", y)));
    }

    @Test
    void loopVariables() {
        assertEquals("1/0/3/True/False/3;2/1/3/False/False/2;3/2/3/False/True/1;",
                render("{% for m in ms %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.length }}/{{ loop.first }}"
                        + "/{{ loop.last }}/{{ loop.revindex }};{% endfor %}", Map.of("ms", List.of("a", "b", "c"))));
        assertEquals("empty", render("{% for i in [] %}x{% else %}empty{% endfor %}"));
        // the loop's if-clause filters first: length counts kept items
        assertEquals("2232", render("{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% endfor %}", Map.of("xs", List.of(1, 2, 3))));
    }

    @Test
    void breakAndContinue() {
        assertEquals("023", render("{% for i in range(10) %}{% if i == 1 %}{% continue %}{% endif %}"
                + "{% if i > 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"));
    }

    @Test
    void namespaceCarriesStateOutOfLoops() {
        assertEquals("6 True", render("{% set ns = namespace(n=0, found=false) %}{% for i in [1,2,3] %}"
                + "{% set ns.n = ns.n + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}"
                + "{{ ns.n }} {{ ns.found }}"));
    }

    @Test
    void setInsideALoopIsLocalToTheIteration() {
        assertEquals("110 120 |1", render("{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = i * 10 %}{{ x }} {% endfor %}|{{ x }}"));
        assertEquals("21[in1]", render("{% set a, b = [1, 2] %}{{ b }}{{ a }}{% set c %}in{{ a }}{% endset %}[{{ c }}]"));
    }

    @Test
    void stringAndDictMethods() {
        assertEquals("a b|a | a|['a', 'b', '', 'c']|['a', 'b']|True|True|a-b-|ABab",
                render("{{ '  a b  '.strip() }}|{{ ' a '.lstrip() }}|{{ ' a '.rstrip() }}|{{ 'a,b,,c'.split(',') }}"
                        + "|{{ ' a  b '.split() }}|{{ 'ab'.startswith('a') }}|{{ 'ab'.endswith(('x','b')) }}"
                        + "|{{ 'aXbX'.replace('X','-') }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}"));
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("a", 1);
        d.put("b", "two");
        assertEquals("1|None|7|a=1;b=two;|['a', 'b']|[1, 'two']",
                render("{{ d.get('a') }}|{{ d.get('z') }}|{{ d.get('z', 7) }}|{% for k, v in d.items() %}{{ k }}={{ v }};"
                        + "{% endfor %}|{{ d.keys()|list }}|{{ d.values()|list }}", Map.of("d", d)));
    }

    @Test
    void arithmeticFollowsPython() {
        assertEquals("3 -4 1 2 3.5 2.0 1024 7 a1None 1e+20 0.30000000000000004 1.5e-05 3.0",
                render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} "
                        + "{{ 1 + 2 * 3 }} {{ 'a' ~ 1 ~ none }} {{ 1e20 }} {{ 0.1 + 0.2 }} {{ 1.5e-5 }} {{ 3.0 }}"));
    }

    @Test
    void logicAndComparisons() {
        assertEquals("y|True|True|True|True|True|True",
                render("{{ 'x' if a else 'y' }}|{{ 1 in [1,2] }}|{{ 3 not in [1,2] }}|{{ 'b' in 'abc' }}"
                        + "|{{ 'k' in {'k': 1} }}|{{ not false and (true or false) }}|{{ 1 < 2 <= 2 }}", Map.of("a", 0)));
        assertEquals("two", render("{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}", Map.of("x", 2)));
    }

    @Test
    void undefinedAndTests() {
        Map<String, Object> vars = new HashMap<>();
        vars.put("n", null);
        assertEquals("|False|0|True|True|True|True|True|True|True|False|dflt|e|None|True",
                render("{{ u }}|{{ u is defined }}|{{ u|length }}|{{ n is none }}|{{ 's' is string }}|{{ {} is mapping }}"
                        + "|{{ [] is iterable }}|{{ 's' is sequence }}|{{ 1.5 is number }}|{{ true is true }}"
                        + "|{{ 0 is false }}|{{ u|default('dflt') }}|{{ ''|default('e', true) }}|{{ n|default('x') }}"
                        + "|{{ u is not defined }}", vars));
        assertEquals("a:False;b:True;", render("{% for m in ms %}{{ m.role }}:{{ m.tool_calls is defined }};{% endfor %}",
                Map.of("ms", List.of(Map.of("role", "a"), Map.of("role", "b", "tool_calls", List.of())))));
        // chainable: attribute access on undefined stays undefined instead of failing
        assertEquals("False", render("{{ u.attr.deeper is defined }}"));
    }

    @Test
    void filters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("n", "p");
        p.put("k", true);
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("n", "q");
        q.put("k", false);
        assertEquals("2 a b a, b AB p+q ['p'] ['q'] 1 5! t",
                render("{{ xs|length }} {{ xs|first }} {{ xs|last }} {{ xs|join(', ') }} {{ xs|map('upper')|join }} "
                        + "{{ ps|map(attribute='n')|join('+') }} {{ ps|selectattr('k')|map(attribute='n')|list }} "
                        + "{{ ps|rejectattr('k')|map(attribute='n')|list }} {{ ps|selectattr('n', 'equalto', 'q')|list|length }} "
                        + "{{ 5|string + '!' }} {{ '  t  '|trim }}", Map.of("xs", List.of("a", "b"), "ps", List.of(p, q))));
        assertEquals("[1, 2, 3]['A', 'b'][2, 1]ba", render("{{ [3,1,2]|sort }}{{ ['b','A']|sort }}{{ [1,2]|reverse|list }}{{ 'ab'|reverse }}"));
    }

    @Test
    void filtersBindTighterThanBinaryOperators() {
        assertEquals("<x>", render("{{ '<' + s | trim + '>' }}", Map.of("s", "  x ")));
    }

    @Test
    void macros() {
        assertEquals("Hi A! Hi B? Hi C!", render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                + "{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C') }}"));
    }

    @Test
    void stringLiteralsMayHoldTagDelimitersAndEscapes() {
        assertEquals("a{{b}}c|q\"t\\n\n|éA", render("{{ 'a{{b}}c' }}|{{ \"q\\\"t\\\\n\\n\" }}|{{ '\\u00e9\\x41' }}"));
    }

    @Test
    void raiseExceptionStopsRenderingWithTheTemplatesMessage() {
        RaisedException e = assertThrows(RaisedException.class, () -> render("{{ raise_exception('bad role') }}"));
        assertEquals("bad role", e.getMessage());
    }

    @Test
    void syntaxErrorsNameTheLine() {
        TemplateException e = assertThrows(TemplateException.class, () -> Template.compile("ok\n{% if x %}\nno end"));
        assertTrue(e.getMessage().contains("endif"), e.getMessage());
        TemplateException bad = assertThrows(TemplateException.class, () -> Template.compile("a\n\n{% frobnicate %}"));
        assertTrue(bad.getMessage().startsWith("line 3"), bad.getMessage());
    }

    @Test
    void arithmeticOnUndefinedFailsAsInJinja2() {
        TemplateException e = assertThrows(TemplateException.class, () -> render("{{ missing + 'x' }}"));
        assertTrue(e.getMessage().contains("'missing' is undefined"), e.getMessage());
    }
}
