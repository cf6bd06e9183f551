package io.nemotron.service.toolcall;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        String prop = System.getProperty("nemotron.reference.dir");
        Path base = prop != null ? Path.of(prop) : Path.of("../../shared/reference");
        if (!Files.isDirectory(base)) {
            base = Path.of("../shared/reference");
        }
        return base.resolve(relative).toAbsolutePath().normalize();
    }
}
