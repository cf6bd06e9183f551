package io.nemotron.service.toolcall;

import io.nemotron.core.engine.InvalidRequestException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads tool definitions in the shapes clients send: plain {@code {name, description, parameters}}, OpenAI's
 * {@code {"type":"function","function":{...}}}, and BFCL function docs (plain, with "dict" schemas).
 */
public final class ToolSpecs {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private ToolSpecs() {}

    /** A JSON array of tools (a single tool object is taken as an array of one). */
    public static List<ToolSpec> fromJson(JsonNode tools) {
        List<ToolSpec> out = new ArrayList<>();
        if (tools.isObject()) {
            out.add(fromEntry(tools, "tools[0]"));
            return out;
        }
        if (!tools.isArray()) {
            throw new InvalidRequestException("tools: expected a JSON array of tools");
        }
        for (int i = 0; i < tools.size(); i++) {
            out.add(fromEntry(tools.get(i), "tools[" + i + "]"));
        }
        return out;
    }

    /** The tools of an {@code io.nemotron.core.chat.ChatRequest} (plain maps, as the chat templates take them). */
    public static List<ToolSpec> fromMaps(List<Map<String, Object>> tools) {
        return fromJson(MAPPER.valueToTree(tools));
    }

    private static ToolSpec fromEntry(JsonNode entry, String path) {
        if (entry == null || !entry.isObject()) {
            throw new InvalidRequestException(path + ": expected a tool object");
        }
        JsonNode function = entry.get("function");
        if (function != null && function.isObject()) {
            entry = function;
            path += ".function";
        }
        JsonNode name = entry.get("name");
        if (name == null || !name.isString() || name.asString().isEmpty()) {
            throw new InvalidRequestException(path + ".name: required string");
        }
        JsonNode description = entry.get("description");
        JsonNode parameters = entry.get("parameters");
        if (parameters == null || parameters.isNull()) {
            parameters = MAPPER.createObjectNode();
        } else if (!parameters.isObject()) {
            throw new InvalidRequestException(path + ".parameters: expected a JSON Schema object");
        }
        return new ToolSpec(name.asString(), description != null && description.isString() ? description.asString() : "",
                parameters);
    }
}
