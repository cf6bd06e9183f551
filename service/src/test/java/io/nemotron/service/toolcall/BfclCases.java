package io.nemotron.service.toolcall;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The BFCL function-calling ground truth in ../shared/reference/bfcl (see its SOURCE.md): each case's model output
 * in the Python form and what BFCL's own decoder made of it. An oracle written by others, never by this code.
 */
public record BfclCases(String id, String modelOutput, List<ExpectedCall> expected, JsonNode functions) {
    public static final JsonMapper MAPPER = JsonMapper.builder().build();
    public static final List<String> FILES = List.of("bfcl_sample_shared.jsonl", "bfcl_sample_more.jsonl");

    /**
     * NOTE: three BFCL answers contradict their own schemas (BFCL's checker never reads "enum", and takes the type of
     * its possible answer over the schema's). Hand-checked against the data: the validator is right to flag them,
     * so these exact errors are expected and every other case must have none.
     */
    public static final Map<String, List<String>> SCHEMA_CONTRADICTIONS = Map.of(
            "live_multiple_553-153-2", List.of("argument 'is_unisex': expected string, got boolean false"),
            "live_multiple_756-169-11", List.of("argument 'genre': string \"horror\" is not one of [\"World\","
                    + "\"Fantasy\",\"Offbeat\",\"Mystery\",\"Musical\",\"Thriller\",\"Comedy\",\"Comedy-drama\","
                    + "\"Horror\",\"Animation\",\"Cult\",\"Sci-fi\",\"War\",\"Drama\",\"Anime\",\"Family\","
                    + "\"Action\"]"),
            "live_parallel_multiple_2-2-0", List.of("argument 'command': string \"침실, 공기청정기, 중지\" is not one of "
                    + "[\"거실, 에어컨, 실행\",\", 에어컨, 냉방 실행\",\"다용도실, 통돌이, 중지\"]"));

    /** One decoded call: the name and its arguments, with JSON types as Python's ast gave them. */
    public record ExpectedCall(String name, ObjectNode arguments) {}

    public static List<BfclCases> all() {
        List<BfclCases> cases = new ArrayList<>();
        for (String file : FILES) {
            try {
                for (String line : Files.readAllLines(reference("bfcl/" + file))) {
                    if (!line.isBlank()) {
                        cases.add(of(MAPPER.readTree(line)));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return cases;
    }

    private static BfclCases of(JsonNode entry) {
        List<ExpectedCall> expected = new ArrayList<>();
        for (JsonNode call : entry.get("example_decoded")) {
            for (Map.Entry<String, JsonNode> e : call.properties()) {
                expected.add(new ExpectedCall(e.getKey(), (ObjectNode) e.getValue()));
            }
        }
        return new BfclCases(entry.get("id").asString(), entry.get("example_model_output").asString(), expected,
                entry.get("function"));
    }

    /** The same calls in the JSON-list form, rendered here independently of the parser. */
    public String jsonForm(boolean argumentsAsString) {
        ArrayNode list = MAPPER.createArrayNode();
        for (ExpectedCall call : expected) {
            ObjectNode item = list.addObject();
            item.put("name", call.name());
            if (argumentsAsString) {
                item.put("arguments", MAPPER.writeValueAsString(call.arguments()));
            } else {
                item.set("arguments", call.arguments());
            }
        }
        return "<TOOLCALL>" + MAPPER.writeValueAsString(list) + "</TOOLCALL>";
    }

    @Override
    public String toString() {
        return id;
    }

    /** ../../shared/reference from a worktree's module folder, ../shared/reference from the main checkout's. */
    public static Path reference(String relative) {
        return io.nemotron.service.testing.SharedReference.path(relative);
    }

    /** Equal values and equal JSON types all the way down (an int is not a float, 4 is not 4.0). */
    public static void assertSameJson(JsonNode expected, JsonNode actual, String where) {
        Assertions.assertEquals(expected, actual, where);
        Assertions.assertEquals(expected.getNodeType(), actual.getNodeType(), where);
        Assertions.assertEquals(expected.isIntegralNumber(), actual.isIntegralNumber(), where + ": " + actual);
        Assertions.assertEquals(expected.isFloatingPointNumber(), actual.isFloatingPointNumber(), where + ": " + actual);
        if (expected.isContainer()) {
            Assertions.assertEquals(expected.size(), actual.size(), where);
            if (expected.isArray()) {
                for (int i = 0; i < expected.size(); i++) {
                    assertSameJson(expected.get(i), actual.get(i), where + "[" + i + "]");
                }
            } else {
                for (var e : expected.properties()) {
                    Assertions.assertTrue(actual.has(e.getKey()), where + ": no " + e.getKey());
                    assertSameJson(e.getValue(), actual.get(e.getKey()), where + "." + e.getKey());
                }
            }
        }
    }
}
