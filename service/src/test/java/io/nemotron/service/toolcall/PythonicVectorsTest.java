package io.nemotron.service.toolcall;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The pythonic tool-call vectors of ../shared/reference/toolcall-parsing (Meta's llama-models tests and vLLM's
 * pythonic parser tests, re-derived there with BFCL's decoder) inside {@code <TOOLCALL>...</TOOLCALL>}: every list
 * those parsers accept gives the same names and arguments here, JSON types included.
 */
class PythonicVectorsTest {
    private static JsonNode vectors() throws IOException {
        return BfclCases.MAPPER.readTree(Files.readString(
                BfclCases.reference("toolcall-parsing/pythonic-toolcall-vectors.json")));
    }

    @Test
    void metaValidListsParseToTheExpectedCalls() throws IOException {
        int checked = 0;
        for (JsonNode c : vectors().get("meta_llama_models_tool_utils").get("cases")) {
            String input = c.get("input").asString();
            ToolCallParseResult r = ToolCallStreamParser.parse("<TOOLCALL>" + input + "</TOOLCALL>",
                    ToolCallValidator.syntaxOnly());
            if (!c.get("is_valid_python_list").asBoolean() || !c.has("parsed")) {
                continue;   // Meta rejects some lists BFCL (and we) read leniently; never-throwing is covered elsewhere
            }
            List<ParsedToolCall> calls = r.calls();
            JsonNode parsed = c.get("parsed");
            assertEquals(parsed.size(), calls.size(), input);
            for (int i = 0; i < parsed.size(); i++) {
                assertEquals(parsed.get(i).get(0).asString(), calls.get(i).name(), input);
                BfclCases.assertSameJson(parsed.get(i).get(1), calls.get(i).arguments(), input);
            }
            assertEquals("", r.content(), input);
            checked++;
        }
        assertEquals(7, checked, "Meta's valid lists in the vector file");
    }

    @Test
    void vllmCasesGiveTheSameCallsAndContent() throws IOException {
        int checked = 0;
        for (JsonNode c : vectors().get("vllm_pythonic_tool_parser").get("cases")) {
            String output = c.get("model_output").asString();
            JsonNode expected = c.get("tool_calls");
            String text = expected.isEmpty() ? output : "<TOOLCALL>" + output + "</TOOLCALL>";
            ToolCallParseResult r = ToolCallStreamParser.parse(text, ToolCallValidator.syntaxOnly());
            List<ParsedToolCall> calls = r.calls();
            assertEquals(expected.size(), calls.size(), output);
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i).get("name").asString(), calls.get(i).name(), output);
                JsonNode args = BfclCases.MAPPER.readTree(expected.get(i).get("arguments").asString());
                BfclCases.assertSameJson(args, calls.get(i).arguments(), output);
            }
            if (c.has("content")) {
                assertEquals(c.get("content").asString(), r.content(), output);
            }
            checked++;
        }
        assertEquals(8, checked);
    }
}
