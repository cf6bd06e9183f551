package io.nemotron.service.http;

import com.google.protobuf.Struct;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.Document;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Sampling;
import io.nemotron.api.v1.Thinking;
import io.nemotron.api.v1.Tool;
import io.nemotron.api.v1.ToolCall;
import io.nemotron.api.v1.ToolChoice;
import io.nemotron.core.engine.InvalidRequestException;
import io.nemotron.service.toolcall.JsonStructs;
import java.util.List;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The one mapping of an OpenAI {@code POST /v1/chat/completions} body onto the API's {@link ChatRequest}, which the
 * gRPC Chat RPC takes too: from there both go through the same limits, control-token check, chat preparation and
 * sampling ({@link io.nemotron.service.grpc.RequestPlanner}). Fields that only HTTP has ({@code n}, {@code stream},
 * {@code stream_options}) come back beside it. Unknown fields are ignored, as vLLM does; fields whose meaning we
 * would silently drop are refused naming the field.
 */
final class ChatCompletionRequests {
    /** Choices of one request: each is its own sequence in the batch, so one request cannot fill it. */
    static final int MAX_N = 16;
    /** Fields we do not implement; ignoring them would return something other than what was asked. */
    private static final Set<String> UNSUPPORTED = Set.of("logit_bias", "functions", "function_call", "audio",
            "prediction", "web_search_options");

    private ChatCompletionRequests() {}

    /** A parsed request: the API message and the HTTP-only options. */
    /** @param returnTokenIds vLLM's extension: the prompt's and each choice's token ids in the (non-streamed) response */
    record Parsed(ChatRequest request, int n, boolean stream, boolean includeUsage, String model,
                  boolean returnTokenIds) {}

    static Parsed parse(String body) {
        JsonFields f = JsonFields.body(body);
        for (String field : UNSUPPORTED) {
            if (f.has(field)) {
                throw new InvalidRequestException(field + ": not supported by this server");
            }
        }
        JsonFields format = f.object("response_format");
        if (format != null && !"text".equals(format.string("type"))) {
            throw new InvalidRequestException("response_format: only {\"type\": \"text\"} is supported");
        }
        ChatRequest.Builder r = ChatRequest.newBuilder();
        List<JsonNode> messages = f.array("messages");
        if (messages.isEmpty()) {
            throw new InvalidRequestException("messages: must be a non-empty array");
        }
        for (int i = 0; i < messages.size(); i++) {
            r.addMessages(message(JsonFields.of(messages.get(i), "messages[" + i + "]")));
        }
        List<JsonNode> tools = f.array("tools");
        for (int i = 0; i < tools.size(); i++) {
            r.addTools(tool(JsonFields.of(tools.get(i), "tools[" + i + "]")));
        }
        if (f.has("tool_choice")) {
            r.setToolChoice(toolChoice(f.raw("tool_choice")));
        }
        List<JsonNode> documents = f.array("documents");
        for (int i = 0; i < documents.size(); i++) {
            r.addDocuments(document(JsonFields.of(documents.get(i), "documents[" + i + "]"), i));
        }
        JsonFields rag = f.object("rag");
        if (rag != null) {
            Integer budget = rag.integer("context_budget_tokens", 1, Integer.MAX_VALUE);
            if (budget != null) {
                r.setRagContextBudgetTokens(budget);
            }
        }
        JsonFields kwargs = f.object("chat_template_kwargs");
        if (kwargs != null && kwargs.has("thinking")) {
            r.setThinking(thinking(kwargs.raw("thinking"), kwargs.path("thinking")));
        }
        r.setSampling(sampling(f));
        Integer maxTokens = f.integer("max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxTokens == null) {
            maxTokens = f.integer("max_tokens", 1, Integer.MAX_VALUE);
        }
        if (maxTokens != null) {
            r.setMaxTokens(maxTokens);
        }
        r.addAllStop(stop(f));
        r.setLogprobs(f.bool("logprobs", false));
        Integer top = f.integer("top_logprobs", 0, Integer.MAX_VALUE);
        if (top != null) {
            r.setTopLogprobs(top);
        }
        int n = orDefault(f.integer("n", 1, MAX_N), 1);
        boolean stream = f.bool("stream", false);
        JsonFields options = f.object("stream_options");
        if (options != null && !stream) {
            throw new InvalidRequestException("stream_options: only allowed when stream is true");
        }
        boolean includeUsage = options != null && options.bool("include_usage", false);
        f.string("user"); // accepted for OpenAI compatibility (a string); the API key identifies the client
        return new Parsed(r.build(), n, stream, includeUsage, f.string("model"), f.bool("return_token_ids", false));
    }

    /** temperature, top_p, seed, penalties and vLLM's top_k, min_p, repetition_penalty. */
    static Sampling sampling(JsonFields f) {
        Sampling.Builder s = Sampling.newBuilder();
        Double v;
        if ((v = f.number("temperature")) != null) {
            s.setTemperature(v.floatValue());
        }
        if ((v = f.number("top_p")) != null) {
            s.setTopP(v.floatValue());
        }
        if ((v = f.number("min_p")) != null) {
            s.setMinP(v.floatValue());
        }
        if ((v = f.number("repetition_penalty")) != null) {
            s.setRepetitionPenalty(v.floatValue());
        }
        if ((v = f.number("presence_penalty")) != null) {
            s.setPresencePenalty(v.floatValue());
        }
        if ((v = f.number("frequency_penalty")) != null) {
            s.setFrequencyPenalty(v.floatValue());
        }
        Integer topK = f.integer("top_k", -1, Integer.MAX_VALUE);
        if (topK != null) {
            s.setTopK(Math.max(topK, 0)); // vLLM's -1 and our 0 both mean "no top-k"
        }
        Long seed = f.integer("seed");
        if (seed != null) {
            s.setSeed(seed);
        }
        return s.build();
    }

    /** {@code stop}: one string or an array of strings. */
    static List<String> stop(JsonFields f) {
        JsonNode stop = f.raw("stop");
        if (stop == null) {
            return List.of();
        }
        if (stop.isString()) {
            return List.of(stop.asString());
        }
        List<JsonNode> items = f.array("stop");
        return items.stream().map(s -> {
            if (!s.isString()) {
                throw new InvalidRequestException("stop: must be a string or an array of strings");
            }
            return s.asString();
        }).toList();
    }

    private static ChatMessage message(JsonFields m) {
        String roleName = m.requiredString("role");
        Role role = switch (roleName) {
            case "system", "developer" -> Role.ROLE_SYSTEM;
            case "user" -> Role.ROLE_USER;
            case "assistant" -> Role.ROLE_ASSISTANT;
            case "tool" -> Role.ROLE_TOOL;
            default -> throw new InvalidRequestException(m.path("role") + ": unknown role '" + roleName
                    + "' (expected system, user, assistant or tool)");
        };
        ChatMessage.Builder b = ChatMessage.newBuilder().setRole(role).setContent(content(m));
        String name = m.string("name");
        if (name != null) {
            b.setName(name);
        }
        String toolCallId = m.string("tool_call_id");
        if (toolCallId != null) {
            b.setToolCallId(toolCallId);
        }
        List<JsonNode> calls = m.array("tool_calls");
        for (int i = 0; i < calls.size(); i++) {
            b.addToolCalls(toolCall(JsonFields.of(calls.get(i), m.path("tool_calls[" + i + "]"))));
        }
        return b.build();
    }

    /** A string, or an array of {"type": "text", "text": ...} parts joined (other part types are refused). */
    private static String content(JsonFields m) {
        JsonNode c = m.raw("content");
        if (c == null) {
            return "";
        }
        if (c.isString()) {
            return c.asString();
        }
        List<JsonNode> parts = m.array("content");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            JsonFields part = JsonFields.of(parts.get(i), m.path("content[" + i + "]"));
            String type = part.requiredString("type");
            if (!"text".equals(type)) {
                throw new InvalidRequestException(part.path("type") + ": only text parts are supported, got '"
                        + type + "'");
            }
            text.append(part.requiredString("text"));
        }
        return text.toString();
    }

    private static ToolCall toolCall(JsonFields c) {
        String type = c.string("type");
        if (type != null && !"function".equals(type)) {
            throw new InvalidRequestException(c.path("type") + ": only function calls are supported");
        }
        JsonFields function = c.object("function");
        if (function == null) {
            throw new InvalidRequestException(c.path("function") + ": is required");
        }
        ToolCall.Builder b = ToolCall.newBuilder().setName(function.requiredString("name"));
        String id = c.string("id");
        if (id != null) {
            b.setId(id);
        }
        String arguments = function.string("arguments");
        b.setArguments(arguments == null || arguments.isBlank() ? Struct.getDefaultInstance()
                : jsonObject(arguments, function.path("arguments")));
        return b.build();
    }

    /** OpenAI sends a call's arguments as a string holding a JSON object. */
    private static Struct jsonObject(String json, String path) {
        JsonNode node;
        try {
            node = JsonFields.MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new InvalidRequestException(path + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new InvalidRequestException(path + ": must be a JSON object");
        }
        return JsonStructs.toStruct(node);
    }

    private static Tool tool(JsonFields t) {
        String type = t.requiredString("type");
        if (!"function".equals(type)) {
            throw new InvalidRequestException(t.path("type") + ": only function tools are supported, got '" + type
                    + "'");
        }
        JsonFields function = t.object("function");
        if (function == null) {
            throw new InvalidRequestException(t.path("function") + ": is required");
        }
        Tool.Builder b = Tool.newBuilder().setName(function.requiredString("name"));
        String description = function.string("description");
        if (description != null) {
            b.setDescription(description);
        }
        JsonNode parameters = function.raw("parameters");
        if (parameters != null) {
            if (!parameters.isObject()) {
                throw new InvalidRequestException(function.path("parameters") + ": must be a JSON Schema object");
            }
            b.setParameters(JsonStructs.toStruct(parameters));
        }
        return b.build();
    }

    /** "none" | "auto" | "required" | {"type": "function", "function": {"name": ...}}. */
    private static ToolChoice toolChoice(JsonNode c) {
        if (c.isString()) {
            return switch (c.asString()) {
                case "none" -> ToolChoice.newBuilder().setMode(ToolChoice.Mode.NONE).build();
                case "auto" -> ToolChoice.newBuilder().setMode(ToolChoice.Mode.AUTO).build();
                case "required" -> ToolChoice.newBuilder().setMode(ToolChoice.Mode.REQUIRED).build();
                default -> throw new InvalidRequestException("tool_choice: unknown value '" + c.asString()
                        + "' (expected none, auto, required or a named function)");
            };
        }
        JsonFields named = JsonFields.of(c, "tool_choice");
        JsonFields function = named.object("function");
        if (!"function".equals(named.string("type")) || function == null) {
            throw new InvalidRequestException("tool_choice: expected {\"type\": \"function\", \"function\": "
                    + "{\"name\": ...}}");
        }
        return ToolChoice.newBuilder().setMode(ToolChoice.Mode.NAMED).setName(function.requiredString("name"))
                .build();
    }

    /** vLLM's documents: {id?, title?, text}; an id defaults to the document's position. */
    private static Document document(JsonFields d, int index) {
        Document.Builder b = Document.newBuilder().setText(d.requiredString("text"));
        String id = d.string("id");
        b.setId(id != null ? id : Integer.toString(index));
        String title = d.string("title");
        if (title != null) {
            b.setTitle(title);
        }
        Double score = d.number("score");
        if (score != null) {
            b.setScore(score);
        }
        return b.build();
    }

    /** {@code chat_template_kwargs.thinking}: true/false, or "on"/"off" as the system prompt spells it. */
    private static Thinking thinking(JsonNode v, String path) {
        if (v.isBoolean()) {
            return v.booleanValue() ? Thinking.THINKING_ON : Thinking.THINKING_OFF;
        }
        if (v.isString() && ("on".equals(v.asString()) || "off".equals(v.asString()))) {
            return "on".equals(v.asString()) ? Thinking.THINKING_ON : Thinking.THINKING_OFF;
        }
        throw new InvalidRequestException(path + ": must be true, false, \"on\" or \"off\"");
    }

    static int orDefault(Integer v, int otherwise) {
        return v == null ? otherwise : v;
    }
}
