package io.nemotron.service.grpc;

import io.nemotron.core.engine.InvalidRequestException;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.Document;
import io.nemotron.api.v1.Tool;
import io.nemotron.api.v1.ToolCall;
import io.nemotron.core.chat.ChatDocument;
import io.nemotron.core.chat.ChatMessage;
import io.nemotron.core.chat.Role;
import io.nemotron.core.chat.Thinking;
import io.nemotron.service.toolcall.ToolCallPipeline;
import io.nemotron.service.toolcall.ToolChoice;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Chat RPC request to the prompt builder's {@link io.nemotron.core.chat.ChatRequest}. Refuses what the builder
 * would misread, with {@link IllegalArgumentException}s whose message starts with the field's path.
 */
final class ChatRequests {
    private ChatRequests() {}

    /** {@code choice}: the request's {@link #toolChoice}, resolved once by the caller. */
    static io.nemotron.core.chat.ChatRequest toCore(ChatRequest r, ToolChoice choice) {
        if (r.getMessagesCount() == 0) {
            throw new InvalidRequestException("messages: must not be empty");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < r.getMessagesCount(); i++) {
            messages.add(message(r.getMessages(i), "messages[" + i + "]"));
        }
        List<Map<String, Object>> tools = new ArrayList<>();
        for (int i = 0; i < r.getToolsCount(); i++) {
            tools.add(tool(r.getTools(i), "tools[" + i + "]"));
        }
        if (choice.mode() == ToolChoice.Mode.NONE) {
            tools.clear();   // tool_choice none: the model is not shown the tools at all
        }
        List<ChatDocument> documents = new ArrayList<>();
        for (int i = 0; i < r.getDocumentsCount(); i++) {
            Document d = r.getDocuments(i);
            if (d.hasScore() && !Double.isFinite(d.getScore())) {
                throw new InvalidRequestException("documents[" + i + "].score: must be a finite number, got "
                        + d.getScore());
            }
            documents.add(new ChatDocument(d.getId(), d.getTitle(), d.getText(), d.hasScore() ? d.getScore() : null));
        }
        Integer ragBudget = null;
        if (r.hasRagContextBudgetTokens()) {
            if (r.getRagContextBudgetTokens() == 0) {
                throw new InvalidRequestException("rag_context_budget_tokens: must be >= 1 when set");
            }
            ragBudget = (int) Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(r.getRagContextBudgetTokens()));
        }
        return new io.nemotron.core.chat.ChatRequest(messages, tools, thinking(r), documents, ragBudget, null);
    }

    /** The request's tool_choice, resolved and checked against its tools. */
    static ToolChoice toolChoice(ChatRequest r) {
        io.nemotron.api.v1.ToolChoice c = r.getToolChoice();
        boolean hasTools = r.getToolsCount() > 0;
        switch (c.getMode()) {
            case NAMED -> {
                if (c.getName().isEmpty()) {
                    throw new InvalidRequestException("tool_choice.name: mode NAMED needs the name of one of the tools");
                }
                if (r.getToolsList().stream().noneMatch(t -> t.getName().equals(c.getName()))) {
                    throw new InvalidRequestException("tool_choice.name: no tool named '" + c.getName()
                            + "' in tools");
                }
            }
            case REQUIRED -> {
                if (!hasTools) {
                    throw new InvalidRequestException("tool_choice.mode: REQUIRED needs at least one tool in tools");
                }
            }
            case UNRECOGNIZED -> throw new InvalidRequestException("tool_choice.mode: unknown mode "
                    + c.getModeValue());
            default -> {
                if (!c.getName().isEmpty()) {
                    throw new InvalidRequestException("tool_choice.name: only mode NAMED takes a name");
                }
            }
        }
        return ToolCallPipeline.toolChoice(c, hasTools);
    }

    private static ChatMessage message(io.nemotron.api.v1.ChatMessage m, String path) {
        Role role = switch (m.getRole()) {
            case ROLE_SYSTEM -> Role.SYSTEM;
            case ROLE_USER -> Role.USER;
            case ROLE_ASSISTANT -> Role.ASSISTANT;
            case ROLE_TOOL -> Role.TOOL;
            case ROLE_UNSPECIFIED, UNRECOGNIZED -> throw new InvalidRequestException(path + ".role: unknown role "
                    + m.getRoleValue() + " (expected ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL)");
        };
        if (m.getToolCallsCount() > 0 && role != Role.ASSISTANT) {
            throw new InvalidRequestException(path + ".tool_calls: only assistant messages carry tool calls");
        }
        List<Map<String, Object>> calls = new ArrayList<>();
        for (ToolCall c : m.getToolCallsList()) {
            Map<String, Object> call = new LinkedHashMap<>();
            if (!c.getId().isEmpty()) {
                call.put("id", c.getId());
            }
            call.put("name", c.getName());
            call.put("arguments", ProtoValues.toMap(c.getArguments()));
            calls.add(call);
        }
        return new ChatMessage(role, m.getContent(), calls, emptyToNull(m.getName()), emptyToNull(m.getToolCallId()));
    }

    /** The OpenAI tool shape the templates expect: {"type":"function","function":{name, description, parameters}}. */
    private static Map<String, Object> tool(Tool t, String path) {
        if (t.getName().isEmpty()) {
            throw new InvalidRequestException(path + ".name: must not be empty");
        }
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", t.getName());
        function.put("description", t.getDescription());
        function.put("parameters", ProtoValues.toMap(t.getParameters()));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        return tool;
    }

    private static Thinking thinking(ChatRequest r) {
        return switch (r.getThinking()) {
            case THINKING_ON -> Thinking.ON;
            case THINKING_OFF -> Thinking.OFF;
            case THINKING_UNSPECIFIED -> null;
            case UNRECOGNIZED -> throw new InvalidRequestException("thinking: unknown value " + r.getThinkingValue());
        };
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }
}
