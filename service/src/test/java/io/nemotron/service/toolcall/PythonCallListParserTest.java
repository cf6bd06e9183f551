package io.nemotron.service.toolcall;

import static io.nemotron.service.toolcall.BfclCases.assertSameJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/** The Python call-list form; expected values written by hand from Python's semantics. */
class PythonCallListParserTest {
    private static final JsonNodeFactory N = JsonNodeFactory.instance;

    private static JsonNode arg(String literal) {
        List<FunctionCall> calls = PythonCallListParser.parse("[f(x=" + literal + ")]");
        assertEquals(1, calls.size());
        return calls.getFirst().arguments().get("x");
    }

    @Test
    void stringsWithPythonEscapes() {
        assertSameJson(N.stringNode("a\nb\tc\\d'e\"f"), arg("'a\\nb\\tc\\\\d\\'e\\\"f'"), "single");
        assertSameJson(N.stringNode("it's"), arg("\"it's\""), "double");
        assertSameJson(N.stringNode("é€😀"), arg("'\\u00e9\\u20ac\\U0001F600'"), "unicode");
        assertSameJson(N.stringNode("\u0007\u000b\0A"), arg("'\\a\\v\\0\\x41'"), "octal and hex");
        assertSameJson(N.stringNode("\\d"), arg("'\\d'"), "unknown escape keeps its backslash");
        assertSameJson(N.stringNode("ab"), arg("'a' \"b\""), "adjacent literals concatenate");
        assertSameJson(N.stringNode("C:\\dir\\n"), arg("r'C:\\dir\\n'"), "raw string");
        assertSameJson(N.stringNode("two\nlines"), arg("'''two\nlines'''"), "triple quoted");
        assertSameJson(N.stringNode("é"), arg("'\\N{LATIN SMALL LETTER E WITH ACUTE}'"), "named");
        assertSameJson(N.stringNode("😀"), arg("'😀'"), "literal non-BMP");
    }

    @Test
    void numbersKeepTheirPythonType() {
        assertSameJson(N.numberNode(42), arg("42"), "int");
        assertSameJson(N.numberNode(-7), arg("-7"), "negative int");
        assertSameJson(N.numberNode(0), arg("0"), "zero");
        assertSameJson(N.numberNode(3000000000L), arg("3000000000"), "long");
        assertSameJson(N.numberNode(new BigInteger("123456789012345678901234567890")),
                arg("123456789012345678901234567890"), "big");
        assertSameJson(N.numberNode(1_000_000), arg("1_000_000"), "underscores");
        assertSameJson(N.numberNode(255), arg("0xff"), "hex");
        assertSameJson(N.numberNode(1.0), arg("1.0"), "1.0 stays a float");
        assertSameJson(N.numberNode(-9.81), arg("-9.81"), "negative float");
        assertSameJson(N.numberNode(1e-5), arg("1e-05"), "exponent");
        assertSameJson(N.numberNode(250000.0), arg("2.5E5"), "exponent is a float");
        assertSameJson(N.numberNode(0.5), arg(".5"), "no leading digit");
        assertSameJson(N.numberNode(2.0), arg("2."), "no trailing digit");
    }

    @Test
    void constantsAndContainers() {
        assertSameJson(N.booleanNode(true), arg("True"), "True");
        assertSameJson(N.booleanNode(false), arg("False"), "False");
        assertSameJson(N.nullNode(), arg("None"), "None");
        assertSameJson(N.arrayNode().add(1).add(2.5).add("x"), arg("[1, 2.5, 'x',]"), "list");
        assertSameJson(N.arrayNode().add(48.8584).add(2.2945), arg("(48.8584, 2.2945)"), "tuple is an array");
        assertSameJson(N.arrayNode().add(1), arg("(1,)"), "one-tuple");
        assertSameJson(N.arrayNode(), arg("()"), "empty tuple");
        assertSameJson(N.numberNode(5), arg("(5)"), "parentheses are grouping");
        JsonNode nested = arg("{'a': [1, {\"b\": (None, True)}], 'c': {}}");
        JsonNode expected = N.objectNode()
                .<tools.jackson.databind.node.ObjectNode>set("a", N.arrayNode().add(1)
                        .add(N.objectNode().set("b", N.arrayNode().addNull().add(true))))
                .set("c", N.objectNode());
        assertSameJson(expected, nested, "nested");
    }

    @Test
    void callListShapes() {
        List<FunctionCall> calls = PythonCallListParser.parse(
                "[ a.b_c(x=1, y = \"s\") ,\n g(), version_api.VersionApi.get_version(), _f(_from='A', _class='B'),]");
        assertEquals(List.of("a.b_c", "g", "version_api.VersionApi.get_version", "_f"),
                calls.stream().map(FunctionCall::name).toList());
        assertEquals(2, calls.get(0).arguments().size());
        assertEquals(0, calls.get(1).arguments().size());
        assertEquals("A", calls.get(3).arguments().get("_from").asString());
        assertEquals(List.of(), PythonCallListParser.parse("[]"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "[f(1)]", "[f(x)]", "[f(x=1, x=2)]", "[f(x=1]", "[f(x=1)", "[f(x='a)]", "[f(x=\"a\nb\")]",
            "[f(x=1) g()]", "[f(x=1)] extra", "[f(x=[1, 2)]", "[f(x={1: 2})]", "[f(x=foo)]", "[f(x=1+2)]",
            "[f(x=007)]", "[f(x=1e)]", "[f(x=1__0)]", "[f(x=b'a')]", "[f(x='\\u12')]", "[(x=1)]", "[f.(x=1)]",
            "[f(x=-)]", "[f(x=.)]", "[f(x=.e5)]", "[f(x=1.2.3)]", "[f(x=[[[[",
    })
    void malformedListsAreSyntaxErrors(String text) {
        ToolCallSyntaxException e = assertThrows(ToolCallSyntaxException.class, () -> PythonCallListParser.parse(text));
        assertTrue(e.getMessage().contains("at character"), e.getMessage());
    }

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String deep = "[f(x=" + "[".repeat(100_000) + "]".repeat(100_000) + ")]";
        assertThrows(ToolCallSyntaxException.class, () -> PythonCallListParser.parse(deep));
    }
}
