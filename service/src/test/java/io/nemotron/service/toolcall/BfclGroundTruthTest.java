package io.nemotron.service.toolcall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** Every BFCL case: our parse of the model output equals BFCL's decode, names, values and JSON types. */
class BfclGroundTruthTest {
    /**
     * NOTE: three BFCL answers contradict their own schemas (BFCL's checker never reads "enum", and takes the type of
     * its possible answer over the schema's). Hand-checked against the data: the validator is right to flag them,
     * so these exact errors are expected and every other case must have none.
     */
    static final Map<String, List<String>> SCHEMA_CONTRADICTIONS = Map.of(
            "live_multiple_553-153-2", List.of("argument 'is_unisex': expected string, got boolean false"),
            "live_multiple_756-169-11", List.of("argument 'genre': string \"horror\" is not one of [\"World\","
                    + "\"Fantasy\",\"Offbeat\",\"Mystery\",\"Musical\",\"Thriller\",\"Comedy\",\"Comedy-drama\","
                    + "\"Horror\",\"Animation\",\"Cult\",\"Sci-fi\",\"War\",\"Drama\",\"Anime\",\"Family\","
                    + "\"Action\"]"),
            "live_parallel_multiple_2-2-0", List.of("argument 'command': string \"침실, 공기청정기, 중지\" is not one of "
                    + "[\"거실, 에어컨, 실행\",\", 에어컨, 냉방 실행\",\"다용도실, 통돌이, 중지\"]"));

    static List<BfclCases> cases() {
        return BfclCases.all();
    }

    @Test
    void bothFilesAreRead() {
        assertEquals(300, cases().size());
        assertTrue(cases().stream().map(BfclCases::id).toList().containsAll(SCHEMA_CONTRADICTIONS.keySet()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void pythonFormMatchesBfclDecoder(BfclCases c) {
        assertMatches(c, c.modelOutput());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void jsonFormGivesTheSameCalls(BfclCases c) {
        assertMatches(c, c.jsonForm(false));
        assertMatches(c, c.jsonForm(true));
    }

    private static void assertMatches(BfclCases c, String output) {
        ToolCallValidator validator = new ToolCallValidator(ToolSpecs.fromJson(c.functions()), ToolChoice.AUTO);
        ToolCallParseResult result = ToolCallStreamParser.parse(output, validator);
        assertEquals(List.of(), result.errors(), c.id());
        assertEquals("", result.content(), c.id());
        List<ParsedToolCall> calls = result.calls();
        assertEquals(c.expected().size(), calls.size(), c.id());
        List<String> validationErrors = calls.stream().flatMap(call -> call.errors().stream()).toList();
        assertEquals(SCHEMA_CONTRADICTIONS.getOrDefault(c.id(), List.of()), validationErrors, c.id());
        for (int i = 0; i < calls.size(); i++) {
            ParsedToolCall call = calls.get(i);
            BfclCases.ExpectedCall expected = c.expected().get(i);
            assertEquals("call_" + i, call.id());
            assertEquals(expected.name(), call.name(), c.id());
            assertSameJson(expected.arguments(), call.arguments(), c.id() + " " + call.name());
        }
    }

    /** Equal values and equal JSON types all the way down (an int is not a float, 4 is not 4.0). */
    static void assertSameJson(JsonNode expected, JsonNode actual, String where) {
        assertEquals(expected, actual, where);
        assertEquals(expected.getNodeType(), actual.getNodeType(), where);
        assertEquals(expected.isIntegralNumber(), actual.isIntegralNumber(), where + ": " + actual);
        assertEquals(expected.isFloatingPointNumber(), actual.isFloatingPointNumber(), where + ": " + actual);
        if (expected.isContainer()) {
            assertEquals(expected.size(), actual.size(), where);
            if (expected.isArray()) {
                for (int i = 0; i < expected.size(); i++) {
                    assertSameJson(expected.get(i), actual.get(i), where + "[" + i + "]");
                }
            } else {
                for (var e : expected.properties()) {
                    assertTrue(actual.has(e.getKey()), where + ": no " + e.getKey());
                    assertSameJson(e.getValue(), actual.get(e.getKey()), where + "." + e.getKey());
                }
            }
        }
    }
}
