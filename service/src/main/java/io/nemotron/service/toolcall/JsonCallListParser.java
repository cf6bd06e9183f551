package io.nemotron.service.toolcall;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The JSON form Nemotron's chat template asks for: {@code [{"name": "f", "arguments": {...}}, ...]}. "arguments"
 * may also be a string holding a JSON object (the OpenAI wire shape), and "parameters" is read as its synonym
 * (Llama 3.1's own tool format).
 */
final class JsonCallListParser {
    // Integers stay Int/Long/BigInteger nodes and fractions Double nodes, as the Python form gives them.
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private JsonCallListParser() {}

    /** {@code text} is the whole list, brackets included. */
    static List<FunctionCall> parse(String text) {
        JsonNode root = read(text, "the call list");
        if (!root.isArray()) {
            throw new ToolCallSyntaxException("the JSON call list is not an array");
        }
        List<FunctionCall> calls = new ArrayList<>(root.size());
        for (int i = 0; i < root.size(); i++) {
            calls.add(call(root.get(i), i));
        }
        return calls;
    }

    private static FunctionCall call(JsonNode node, int index) {
        String where = "call " + index;
        if (!node.isObject()) {
            throw new ToolCallSyntaxException(where + " is not a JSON object");
        }
        JsonNode name = node.get("name");
        if (name == null || !name.isString() || name.asString().isEmpty()) {
            throw new ToolCallSyntaxException(where + " has no \"name\" string");
        }
        JsonNode arguments = node.has("arguments") ? node.get("arguments") : node.get("parameters");
        if (arguments == null || arguments.isNull()) {
            return new FunctionCall(name.asString(), MAPPER.createObjectNode());
        }
        if (arguments.isString()) {
            arguments = read(arguments.asString(), where + "'s \"arguments\" string");
        }
        if (!arguments.isObject()) {
            throw new ToolCallSyntaxException(where + "'s \"arguments\" is not a JSON object");
        }
        return new FunctionCall(name.asString(), (ObjectNode) arguments);
    }

    private static JsonNode read(String text, String what) {
        try {
            return MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw new ToolCallSyntaxException(what + " is not valid JSON: " + e.getOriginalMessage());
        }
    }
}
