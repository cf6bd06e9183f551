package io.nemotron.service.toolcall;

import static io.nemotron.service.toolcall.BfclCases.assertSameJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.node.JsonNodeFactory;

/** The JSON call-list form and how the block body picks a form. */
class JsonCallListParserTest {
    private static final JsonNodeFactory N = JsonNodeFactory.instance;

    @Test
    void argumentsAsObjectOrAsJsonString() {
        List<FunctionCall> calls = ToolCallBodyParser.parse(
                " [{\"name\": \"f\", \"arguments\": {\"a\": 1, \"b\": 1.0, \"c\": [true, null]}},"
                        + " {\"name\": \"g\", \"arguments\": \"{\\\"q\\\": \\\"x\\\"}\"}, {\"name\": \"h\"}] ");
        assertEquals(3, calls.size());
        assertSameJson(N.objectNode().put("a", 1).put("b", 1.0)
                .set("c", N.arrayNode().add(true).addNull()), calls.get(0).arguments(), "f");
        assertSameJson(N.objectNode().put("q", "x"), calls.get(1).arguments(), "g");
        assertSameJson(N.objectNode(), calls.get(2).arguments(), "h");
    }

    @Test
    void parametersIsASynonymAndASingleObjectIsAListOfOne() {
        List<FunctionCall> calls = ToolCallBodyParser.parse("{\"name\": \"f\", \"parameters\": {\"a\": 2}}");
        assertEquals("f", calls.getFirst().name());
        assertSameJson(N.objectNode().put("a", 2), calls.getFirst().arguments(), "f");
    }

    @Test
    void formIsChosenByTheFirstItem() {
        assertEquals("f", ToolCallBodyParser.parse("```\n[f(a=1)]\n```").getFirst().name());
        assertEquals("f", ToolCallBodyParser.parse("f(a=1)").getFirst().name());
        assertEquals("f", ToolCallBodyParser.parse("[\n  {\"name\":\"f\",\"arguments\":{}}]").getFirst().name());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "[{\"name\": \"f\", \"arguments\": {]", "[{\"arguments\": {}}]", "[{\"name\": 3}]",
            "[{\"name\": \"f\", \"arguments\": [1]}]", "[{\"name\": \"f\", \"arguments\": \"not json\"}]",
            "[{\"name\": \"f\"}] x", "[{\"name\": \"f\", \"arguments\": {\"a\": 1, \"a\": 2}}]", "[{\"name\": \"f\"}, 3]",
            "", "  ",
    })
    void malformedJsonIsASyntaxError(String body) {
        assertThrows(ToolCallSyntaxException.class, () -> ToolCallBodyParser.parse(body));
    }
}
