package io.nemotron.service.toolcall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** One test per validation rule and per tool_choice mode; expected messages written by hand. */
class ToolCallValidatorTest {
    private static final JsonNode TOOLS = BfclCases.MAPPER.readTree("""
            [{"name": "get_weather", "description": "Weather of a city.",
              "parameters": {"type": "object", "additionalProperties": false, "required": ["city"],
                "properties": {
                  "city": {"type": "string"},
                  "days": {"type": "integer"},
                  "scale": {"type": "number"},
                  "units": {"type": "string", "enum": ["C", "F"]},
                  "alerts": {"type": "boolean"},
                  "tags": {"type": "array", "items": {"type": "string"}},
                  "where": {"type": "object", "required": ["lat"], "properties": {"lat": {"type": "float"}}},
                  "note": {"type": "null"},
                  "extra": {"type": "any"},
                  "kinds": {"type": "array", "enum": ["a", "b"]},
                  "since": {"type": "string", "default": null}}}},
             {"type": "function", "function": {"name": "search", "parameters": {"type": "dict",
                "properties": {"q": {"type": "string"}, "pair": {"type": "tuple"}, "opts": {"type": "dict"}}}}}]
            """);
    private static final ToolCallValidator AUTO = new ToolCallValidator(ToolSpecs.fromJson(TOOLS), ToolChoice.AUTO);

    private static ObjectNode args(String json) {
        return (ObjectNode) BfclCases.MAPPER.readTree(json);
    }

    @Test
    void aWellFormedCallHasNoErrors() {
        assertEquals(List.of(), AUTO.validate("get_weather", args("""
                {"city": "Paris", "days": 3, "scale": 2, "units": "C", "alerts": true, "tags": ["x"],
                 "where": {"lat": 48.8}, "note": null, "extra": [1, {"a": 2}], "kinds": ["a", "b"], "since": null}""")));
        assertEquals(List.of(), AUTO.validate("search", args("{\"q\": \"x\", \"pair\": [1, 2], \"opts\": {}}")));
        assertEquals(List.of(), AUTO.validate("search", args("{\"anything\": 1}")), "open schema allows others");
    }

    @Test
    void unknownFunction() {
        assertEquals(List.of("unknown function 'get_time' (not among the request's tools)"),
                AUTO.validate("get_time", args("{}")));
    }

    @Test
    void missingRequiredArgumentAlsoNested() {
        assertEquals(List.of("missing required argument 'city'", "missing required argument 'where.lat'"),
                AUTO.validate("get_weather", args("{\"where\": {}}")));
    }

    @Test
    void unknownArgumentOnlyWhenTheSchemaIsClosed() {
        assertEquals(List.of("unknown argument 'zip' (the schema allows no others)"),
                AUTO.validate("get_weather", args("{\"city\": \"a\", \"zip\": 1}")));
    }

    @Test
    void wrongJsonTypes() {
        assertEquals(List.of(
                        "argument 'city': expected string, got integer 1",
                        "argument 'days': expected integer, got float 3.0",
                        "argument 'scale': expected number, got string \"2\"",
                        "argument 'alerts': expected boolean, got string \"true\"",
                        "argument 'tags[1]': expected string, got null",
                        "argument 'where.lat': expected float, got boolean true",
                        "argument 'note': expected null, got integer 0"),
                AUTO.validate("get_weather", args("""
                        {"city": 1, "days": 3.0, "scale": "2", "alerts": "true", "tags": ["a", null],
                         "where": {"lat": true}, "note": 0}""")));
        assertEquals(List.of("argument 'tags': expected array, got object {}"),
                AUTO.validate("get_weather", args("{\"city\": \"a\", \"tags\": {}}")));
        assertEquals(List.of("argument 'pair': expected tuple, got string \"1,2\"",
                        "argument 'opts': expected dict, got array []"),
                AUTO.validate("search", args("{\"pair\": \"1,2\", \"opts\": []}")));
    }

    @Test
    void enumViolationAlsoPerItemOfAnArray() {
        assertEquals(List.of("argument 'units': string \"K\" is not one of [\"C\",\"F\"]",
                        "argument 'kinds[1]': string \"c\" is not one of [\"a\",\"b\"]"),
                AUTO.validate("get_weather", args("{\"city\": \"a\", \"units\": \"K\", \"kinds\": [\"a\", \"c\"]}")));
    }

    @Test
    void toolChoiceNamedFlagsOtherFunctions() {
        ToolCallValidator named = new ToolCallValidator(ToolSpecs.fromJson(TOOLS), ToolChoice.named("search"));
        assertEquals(List.of("tool_choice names 'search' but the model called 'get_weather'"),
                named.validate("get_weather", args("{\"city\": \"a\"}")));
        assertEquals(List.of(), named.validate("search", args("{}")));
        assertEquals(Optional.of("tool_choice named 'search' but the model called no tool"), named.missingCallError(0));
    }

    @Test
    void toolChoiceRequiredNeedsACall() {
        ToolCallValidator required = new ToolCallValidator(ToolSpecs.fromJson(TOOLS), ToolChoice.REQUIRED);
        ToolCallParseResult none = ToolCallStreamParser.parse("I will not call anything.", required);
        assertEquals(List.of("tool_choice required but the model called no tool"), none.errors());
        ToolCallParseResult one = ToolCallStreamParser.parse("<TOOLCALL>[search(q='x')]</TOOLCALL>", required);
        assertEquals(List.of(), one.errors());
        assertEquals(List.of(), AUTO.missingCallError(0).stream().toList());
    }

    @Test
    void toolChoiceNoneTurnsTheParserOff() {
        ToolCallValidator none = new ToolCallValidator(ToolSpecs.fromJson(TOOLS), ToolChoice.NONE);
        String text = "a <TOOLCALL>[search(q='x')]</TOOLCALL> b";
        ToolCallParseResult result = ToolCallStreamParser.parse(text, none);
        assertEquals(text, result.content());
        assertEquals(List.of(), result.blocks());
        assertEquals(List.of(), result.errors());
    }

    @Test
    void invalidCallsAreStillReturnedWithTheirErrors() {
        ToolCallParseResult result = ToolCallStreamParser.parse("<TOOLCALL>[get_weather(days=2.5)]</TOOLCALL>", AUTO);
        ParsedToolCall call = result.calls().getFirst();
        assertEquals("get_weather", call.name());
        assertEquals(List.of("missing required argument 'city'", "argument 'days': expected integer, got float 2.5"),
                call.errors());
    }

    @Test
    void toolChoiceNeedsANameExactlyWhenNamed() {
        assertThrows(IllegalArgumentException.class, () -> new ToolChoice(ToolChoice.Mode.NAMED, null));
        assertThrows(IllegalArgumentException.class, () -> new ToolChoice(ToolChoice.Mode.AUTO, "f"));
    }
}
