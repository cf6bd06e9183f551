package io.nemotron.service.toolcall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every BFCL case: our parse of the model output equals BFCL's decode, names, values and JSON types. */
class BfclGroundTruthTest {
    static List<BfclCases> cases() {
        return BfclCases.all();
    }

    @Test
    void bothFilesAreRead() {
        assertEquals(300, cases().size());
        assertTrue(cases().stream().map(BfclCases::id).toList().containsAll(BfclCases.SCHEMA_CONTRADICTIONS.keySet()));
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
        assertEquals(BfclCases.SCHEMA_CONTRADICTIONS.getOrDefault(c.id(), List.of()), validationErrors, c.id());
        for (int i = 0; i < calls.size(); i++) {
            ParsedToolCall call = calls.get(i);
            BfclCases.ExpectedCall expected = c.expected().get(i);
            assertEquals("call_" + i, call.id());
            assertEquals(expected.name(), call.name(), c.id());
            BfclCases.assertSameJson(expected.arguments(), call.arguments(), c.id() + " " + call.name());
        }
    }
}
