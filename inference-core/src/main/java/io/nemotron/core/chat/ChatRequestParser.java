package io.nemotron.core.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Parses and validates the chat-request JSON. Every error names the field path
 * ({@code messages[2].role: unknown role 'foo'}). Unknown fields are refused rather than ignored, so a typo such
 * as {@code "thinkng"} cannot silently change the prompt.
 */
public final class ChatRequestParser {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> REQUEST_FIELDS = Set.of("messages", "tools", "thinking", "documents", "rag",
            "add_generation_prompt");
    private static final Set<String> MESSAGE_FIELDS = Set.of("role", "content", "tool_calls", "name", "tool_call_id");
    private static final Set<String> DOCUMENT_FIELDS = Set.of("id", "title", "text", "score");
    private static final Set<String> RAG_FIELDS = Set.of("context_budget_tokens");

    private ChatRequestParser() {}

    public static ChatRequest parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new ChatRequestException("request: not valid JSON: " + e.getOriginalMessage());
        }
        return parse(root);
    }

    public static ChatRequest parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new ChatRequestException("request: must be a JSON object");
        }
        checkFields(root, REQUEST_FIELDS, "");
        return new ChatRequest(messages(root.get("messages")), tools(root.get("tools")), thinking(root.get("thinking")),
                documents(root.get("documents")), ragBudget(root.get("rag")), addGenerationPrompt(root.get("add_generation_prompt")));
    }

    private static List<ChatMessage> messages(JsonNode node) {
        if (node == null || node.isNull()) {
            throw new ChatRequestException("messages: required");
        }
        if (!node.isArray() || node.isEmpty()) {
            throw new ChatRequestException("messages: must be a non-empty array");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            out.add(message(node.get(i), "messages[" + i + "]"));
        }
        return out;
    }

    private static ChatMessage message(JsonNode m, String path) {
        if (!m.isObject()) {
            throw new ChatRequestException(path + ": must be an object");
        }
        checkFields(m, MESSAGE_FIELDS, path + ".");
        JsonNode roleNode = m.get("role");
        if (roleNode == null || !roleNode.isString()) {
            throw new ChatRequestException(path + ".role: required string (system, user, assistant or tool)");
        }
        Role role = Role.fromWire(roleNode.asString());
        if (role == null) {
            throw new ChatRequestException(path + ".role: unknown role '" + roleNode.asString()
                    + "' (expected system, user, assistant or tool)");
        }
        List<Map<String, Object>> toolCalls = toolCalls(m.get("tool_calls"), role, path + ".tool_calls");
        String content = content(m.get("content"), !toolCalls.isEmpty(), path + ".content");
        return new ChatMessage(role, content, toolCalls, optionalString(m.get("name"), path + ".name"),
                optionalString(m.get("tool_call_id"), path + ".tool_call_id"));
    }

    /** A string, or OpenAI-style text parts joined; null is allowed only beside tool calls (it renders as ""). */
    private static String content(JsonNode node, boolean hasToolCalls, String path) {
        if (node == null || node.isNull()) {
            if (hasToolCalls) {
                return "";
            }
            throw new ChatRequestException(path + ": required");
        }
        if (node.isString()) {
            return node.asString();
        }
        if (!node.isArray()) {
            throw new ChatRequestException(path + ": must be a string or an array of text parts");
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < node.size(); i++) {
            JsonNode part = node.get(i);
            String partPath = path + "[" + i + "]";
            if (!part.isObject() || !"text".equals(part.path("type").asString(null)) || !part.path("text").isString()) {
                throw new ChatRequestException(partPath + ": only {\"type\": \"text\", \"text\": ...} parts are supported");
            }
            text.append(part.get("text").asString());
        }
        return text.toString();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> toolCalls(JsonNode node, Role role, String path) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (role != Role.ASSISTANT) {
            throw new ChatRequestException(path + ": only assistant messages carry tool calls");
        }
        if (!node.isArray()) {
            throw new ChatRequestException(path + ": must be an array");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode call = node.get(i);
            String callPath = path + "[" + i + "]";
            if (!call.isObject()) {
                throw new ChatRequestException(callPath + ": must be an object");
            }
            JsonNode fn = call.has("function") ? call.get("function") : call;
            String fnPath = call.has("function") ? callPath + ".function" : callPath;
            requireName(fn, fnPath);
            JsonNode args = fn.get("arguments");
            if (args != null && !args.isObject() && !args.isString()) {
                throw new ChatRequestException(fnPath + ".arguments: must be an object or a JSON string");
            }
            out.add((Map<String, Object>) JsonValues.fromJson(call));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> tools(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new ChatRequestException("tools: must be an array");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode tool = node.get(i);
            String path = "tools[" + i + "]";
            if (!tool.isObject()) {
                throw new ChatRequestException(path + ": must be an object");
            }
            if (tool.has("function")) {
                requireName(tool.get("function"), path + ".function");
            } else {
                requireName(tool, path);
            }
            out.add((Map<String, Object>) JsonValues.fromJson(tool));
        }
        return out;
    }

    private static void requireName(JsonNode fn, String path) {
        if (!fn.isObject()) {
            throw new ChatRequestException(path + ": must be an object");
        }
        JsonNode name = fn.get("name");
        if (name == null || !name.isString() || name.asString().isBlank()) {
            throw new ChatRequestException(path + ".name: required non-empty string");
        }
    }

    private static Thinking thinking(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isString()) {
            switch (node.asString()) {
                case "on" -> {
                    return Thinking.ON;
                }
                case "off" -> {
                    return Thinking.OFF;
                }
                default -> { }
            }
        }
        throw new ChatRequestException("thinking: expected \"on\" or \"off\", got " + node);
    }

    private static List<ChatDocument> documents(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new ChatRequestException("documents: must be an array");
        }
        List<ChatDocument> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode d = node.get(i);
            String path = "documents[" + i + "]";
            if (!d.isObject()) {
                throw new ChatRequestException(path + ": must be an object");
            }
            checkFields(d, DOCUMENT_FIELDS, path + ".");
            JsonNode text = d.get("text");
            if (text == null || !text.isString()) {
                throw new ChatRequestException(path + ".text: required string");
            }
            JsonNode id = d.get("id");
            if (id != null && !id.isNull() && !id.isString() && !id.isIntegralNumber()) {
                throw new ChatRequestException(path + ".id: must be a string or an integer");
            }
            JsonNode score = d.get("score");
            if (score != null && !score.isNull() && !score.isNumber()) {
                throw new ChatRequestException(path + ".score: must be a number");
            }
            out.add(new ChatDocument(id == null || id.isNull() ? null : id.asString(),
                    optionalString(d.get("title"), path + ".title"), text.asString(),
                    score == null || score.isNull() ? null : score.asDouble()));
        }
        return out;
    }

    private static Integer ragBudget(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new ChatRequestException("rag: must be an object");
        }
        checkFields(node, RAG_FIELDS, "rag.");
        JsonNode budget = node.get("context_budget_tokens");
        if (budget == null || budget.isNull()) {
            return null;
        }
        if (!budget.isIntegralNumber() || !budget.canConvertToInt() || budget.intValue() <= 0) {
            throw new ChatRequestException("rag.context_budget_tokens: must be a positive integer, got " + budget);
        }
        return budget.intValue();
    }

    private static Boolean addGenerationPrompt(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isBoolean()) {
            throw new ChatRequestException("add_generation_prompt: must be true or false, got " + node);
        }
        return node.booleanValue();
    }

    private static String optionalString(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isString()) {
            throw new ChatRequestException(path + ": must be a string");
        }
        return node.asString();
    }

    private static void checkFields(JsonNode object, Set<String> allowed, String prefix) {
        for (String name : object.propertyNames()) {
            if (!allowed.contains(name)) {
                throw new ChatRequestException(prefix + name + ": unknown field (expected one of "
                        + allowed.stream().sorted().toList() + ")");
            }
        }
    }
}
